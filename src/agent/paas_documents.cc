#include "agent/paas_documents.h"

#include <set>
#include <string>

#include "control/paas/paas_kind.h"

namespace privlink::agent {

Status appendPaasDocuments(store::ReadView& view, std::vector<model::SourceDocument>& docs) {
  ASSIGN_OR_RETURN(std::optional<store::Document> record,
                   view.get(control::paas::kPaasAddressesKey));
  if (!record || !record->body.is_object()) return Status::Ok();
  std::set<std::string> keys;
  auto slots = record->body.find("backendSlots");
  if (slots == record->body.end() || !slots->is_object()) return Status::Ok();
  for (const auto& [slot, key] : slots->items()) {
    if (key.is_string()) keys.insert(model::normaliseKey(key.get<std::string>()));
  }
  for (const std::string& key : keys) {
    auto instance = view.get(key);
    // A key that is no resource id cannot name an instance (the record is only ever written by
    // the PaaS kind, so this is damage); skip it rather than stop realising everything else.
    if (!instance.ok() && instance.status().code() == StatusCode::kInvalidArgument) continue;
    if (!instance.ok()) return instance.status();
    if (!*instance) continue;  // released in the same transaction that deleted it
    const store::Document& doc = **instance;
    docs.push_back({doc.key, doc.id, doc.type, doc.body});
    ASSIGN_OR_RETURN(std::vector<store::Document> records,
                     view.listPrefix(key + "/privateendpointconnections/"));
    for (const store::Document& d : records) {
      if (d.type.size() > 27 &&
          d.type.compare(d.type.size() - 27, 27, "/privateendpointconnections") == 0) {
        docs.push_back({d.key, d.id, d.type, d.body});
      }
    }
  }
  return Status::Ok();
}

}  // namespace privlink::agent
