#pragma once
// The PaaS part of the agent's snapshot read (DESIGN.md §1, PaaS row). PaaS instance types come
// from an operator-extensible catalog the agent does not know, so instances are found through the
// platform's address record (control::paas::kPaasAddressesKey, whose "backendSlots" values are
// the instance keys) rather than by type; each instance's private endpoint connection records are
// the documents directly below it ("<instance key>/privateendpointconnections/<name>").
// model::parseNetwork recognises the instance documents (properties.privlink.paas) and takes the
// endpoints' states from the records.

#include <vector>

#include "common/status.h"
#include "model/network.h"
#include "store/store.h"

namespace privlink::agent {

// Appends every PaaS instance document and its connection records, read in `view`, to `docs`.
// A missing address record means no instances. Fails only when the store cannot be read.
Status appendPaasDocuments(store::ReadView& view, std::vector<model::SourceDocument>& docs);

}  // namespace privlink::agent
