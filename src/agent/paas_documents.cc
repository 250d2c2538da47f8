#include "agent/paas_documents.h"

#include <set>
#include <string>

#include "model/paas_naming.h"

namespace privlink::agent {

Status appendPaasDocuments(store::ReadView& view, std::vector<model::SourceDocument>& docs) {
  ASSIGN_OR_RETURN(std::optional<store::Document> record,
                   view.get(model::kPaasAddressesRecordKey));
  if (!record || !record->body.is_object()) return Status::Ok();
  std::set<std::string> keys;
  auto slots = record->body.find("backendSlots");
  if (slots == record->body.end() || !slots->is_object()) return Status::Ok();
  for (const auto& [slot, key] : slots->items()) {
    if (key.is_string()) keys.insert(model::normaliseKey(key.get<std::string>()));
  }
  for (const std::string& key : keys) {
    ASSIGN_OR_RETURN(std::optional<store::Document> instance, view.get(key));
    if (!instance) continue;  // released in the same transaction that deleted it
    docs.push_back({instance->key, instance->id, instance->type, instance->body});
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
