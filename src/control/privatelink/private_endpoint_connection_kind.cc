// {target}/privateEndpointConnections/{name}: the provider's view of a connection record
// (connection_record.h). The record is created only by a private endpoint; the provider approves,
// rejects or removes it (PUT) or deletes it (DELETE; the consumer then sees Disconnected).

#include "control/network/network_common.h"
#include "control/privatelink/connection_record.h"
#include "control/privatelink/privatelink_kinds.h"

namespace privlink::control::privatelink {
namespace {

using net::Json;

class PrivateEndpointConnectionKind : public ResourceKind {
 public:
  PrivateEndpointConnectionKind(std::shared_ptr<PrivateLinkContext> pl, std::string targetType)
      : pl_(std::move(pl)), type_(std::move(targetType) + "/privateEndpointConnections") {}

  std::string_view type() const override { return type_; }
  bool tracked() const override { return false; }

  // Connection names are "<endpoint name>.<guid>"; clients send them back as they got them.
  Status validateName(std::string_view name) const override {
    if (name.empty() || name.size() > 200) {
      return Status::InvalidArgument("InvalidResourceName",
                                     "A private endpoint connection name must be 1 to 200 "
                                     "characters; use the name from privateEndpointConnections.")
          .withTarget("name");
    }
    return Status::Ok();
  }

  Result<Json> put(KindContext& ctx, const ResourceId& id, Json desired,
                   const store::Document* existing) override {
    if (!existing) {
      return net::badRequest(
          "PrivateEndpointConnectionCannotBeCreatedByServiceProvider",
          "Private endpoint connection " + id.name() + " does not exist on " +
              id.parent()->toString() +
              ". A service provider cannot create connections: the consumer creates a private "
              "endpoint that targets this resource, and the provider then approves or rejects "
              "the connection it lists in privateEndpointConnections.");
    }
    try {
      return applyProviderUpdate(ctx.caller, existing->body, desired);
    } catch (const Json::exception& e) {
      return net::badRequest("InvalidRequestFormat",
                             std::string("Cannot parse the private endpoint connection: ") +
                                 e.what());
    }
  }

  Status remove(KindContext& ctx, const ResourceId& id, const store::Document& existing) override {
    (void)id;
    return detachFromEndpoint(ctx.txn, ctx.caller, existing, "provider",
                              "Removed by the service provider");
  }

 private:
  std::shared_ptr<PrivateLinkContext> pl_;
  std::string type_;
};

}  // namespace

std::unique_ptr<ResourceKind> makePrivateEndpointConnectionKind(
    std::shared_ptr<PrivateLinkContext> ctx, std::string targetType) {
  return std::make_unique<PrivateEndpointConnectionKind>(std::move(ctx), std::move(targetType));
}

}  // namespace privlink::control::privatelink
