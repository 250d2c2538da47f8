#pragma once
// The Private Link kinds (issue #4): Microsoft.Network/privateLinkServices,
// Microsoft.Network/privateEndpoints and the provider-side connection collection
// `{target}/privateEndpointConnections` of every private-link target type. register.h registers
// them; tests may build them one by one.
//
// Interface facts for other parts:
// - PLS documents: properties.loadBalancerFrontendIpConfigurations[].id (the LB kind refuses to
//   remove a frontend a PLS names), ipConfigurations[] (NAT IPs: id, properties.privateIPAddress,
//   subnet.id, primary), visibility/autoApproval.subscriptions[], fqdns[], enableProxyProtocol,
//   alias (stored, stable for the PLS's life).
// - PE documents: properties.subnet.id, exactly one entry in privateLinkServiceConnections[] or
//   manualPrivateLinkServiceConnections[] whose properties.privlink = {connectionId (the record
//   id, connection_record.h), targetId (resolved target id), linkIdentifier}, networkInterfaces[0]
//   .id = the endpoint's read-only NIC (a networkinterfaces document with
//   properties.privateEndpoint.id set, written and erased by the PE kind), customDnsConfigs[].
// - Whether traffic may flow: the record's privateLinkServiceConnectionState.status == "Approved".

#include <cstddef>
#include <memory>

#include "control/authorization/authorizer.h"
#include "control/privatelink/private_link_targets.h"
#include "control/resource_kind.h"
#include "control/resource_service.h"

namespace privlink::control::privatelink {

// Azure's Private Link limits (reference §1.9); tests lower them.
struct PrivateLinkLimits {
  size_t endpointsPerVnet = 1000;
  size_t endpointsPerTarget = 1000;
  size_t endpointsPerSubscription = 64000;
  size_t servicesPerLoadBalancer = 8;
  size_t servicesPerSubscription = 800;
  size_t natIpConfigurationsPerService = 8;
  size_t visibilitySubscriptions = 100;
  size_t autoApprovalSubscriptions = 100;
  size_t requestMessageLength = 140;
};

// What every Private Link kind shares. Must outlive the kinds (they hold a shared_ptr).
struct PrivateLinkContext {
  PrivateLinkContext(ResourceService& service, PrivateLinkLimits limits)
      : service(service), authorizer(service.store()), limits(limits) {}
  ResourceService& service;
  authorization::Authorizer authorizer;
  PrivateLinkTargetRegistry registry;
  PrivateLinkLimits limits;
};

std::unique_ptr<ResourceKind> makePrivateLinkServiceKind(std::shared_ptr<PrivateLinkContext> ctx);
std::unique_ptr<ResourceKind> makePrivateEndpointKind(std::shared_ptr<PrivateLinkContext> ctx);
// The provider-side connection kind of one registered target type (`targetType` as in
// PrivateLinkTargetType::type): type "<targetType>/privateEndpointConnections". PUT updates the
// state (applyProviderUpdate; PUT of a connection that does not exist is 400
// PrivateEndpointConnectionCannotBeCreatedByServiceProvider); DELETE removes the record and the
// consumer sees Disconnected.
std::unique_ptr<ResourceKind> makePrivateEndpointConnectionKind(
    std::shared_ptr<PrivateLinkContext> ctx, std::string targetType);

// The PrivateLinkTargetType of Microsoft.Network/privateLinkServices.
PrivateLinkTargetType privateLinkServiceTargetType();

}  // namespace privlink::control::privatelink
