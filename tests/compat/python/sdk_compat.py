"""privlink against Debian's unmodified Python Azure SDK (python3-azure: azure-identity,
azure-mgmt-resource, azure-mgmt-network, azure-mgmt-authorization).

Run by run_python_compat.sh, which starts privlinkd and sets PRIVLINK_ADMIN (path of admin.json)
and REQUESTS_CA_BUNDLE (the daemon's CA). Must run under /usr/bin/python3 (Debian's packages are
invisible to other interpreters). Prints one line per check and "N passed, M failed"; exits 1 when
a check failed. Every connection goes to privlinkd on localhost.
"""

import json
import os
import sys
import traceback
import uuid

import requests
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.resource import ResourceManagementClient, SubscriptionClient

ADMIN = json.load(open(os.environ["PRIVLINK_ADMIN"]))
BASE = ADMIN["endpoint"].rstrip("/")
SUB = ADMIN["subscriptionId"]
TENANT = ADMIN["tenantId"]
SCOPES = [BASE + "/.default"]
KW = {"base_url": BASE, "credential_scopes": SCOPES}
RG = "py-rg-" + uuid.uuid4().hex[:6]
OTHER_RG = RG + "-other"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"

passed = 0
failed = 0


def check(name, fn):
    global passed, failed
    try:
        result = fn()
        print("ok   " + name)
        passed += 1
        return result
    except Exception as e:  # report every failure and go on
        print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
        traceback.print_exc(limit=3, file=sys.stdout)
        failed += 1
        return None


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def expect_authorization_failed(fn, action):
    try:
        fn()
    except HttpResponseError as e:
        expect(e.status_code == 403, "status %s, want 403" % e.status_code)
        expect(e.error is not None and e.error.code == "AuthorizationFailed",
               "error code %s" % (e.error.code if e.error else None))
        expect("does not have authorization to perform action '%s'" % action in str(e),
               "message: %s" % e)
        return
    raise AssertionError("the call succeeded but must be refused")


# --- admin: the AD FS-style authority (tenant "adfs" skips instance discovery) -------------------
admin_cred = ClientSecretCredential("adfs", ADMIN["clientId"], ADMIN["clientSecret"], authority=BASE)
admin_rm = ResourceManagementClient(admin_cred, SUB, **KW)
admin_authz = AuthorizationManagementClient(admin_cred, SUB, **KW)
admin_net = NetworkManagementClient(admin_cred, SUB, **KW)


def directory(method, path, body=None):
    token = admin_cred.get_token(*SCOPES).token
    r = requests.request(method, BASE + path, params={"api-version": "2024-01-01"}, json=body,
                         headers={"Authorization": "Bearer " + token})
    r.raise_for_status()
    return r.json()


def admin_token():
    token = admin_cred.get_token(*SCOPES)
    expect(token.token.count(".") == 2, "not a JWT")
    expect(token.expires_on > 0, "no expiry")


check("ClientSecretCredential('adfs') gets a token from privlinkd", admin_token)
check("admin: resource group create",
      lambda: expect(admin_rm.resource_groups.create_or_update(RG, {"location": "local"}).name == RG,
                     "name"))
check("admin: second resource group",
      lambda: admin_rm.resource_groups.create_or_update(OTHER_RG, {"location": "local"}))

sp = check("directory: create a service principal",
           lambda: directory("POST", "/providers/Microsoft.Privlink/principals",
                             {"kind": "ServicePrincipal", "displayName": "py-netops"}))
lonely = check("directory: create a principal without roles",
               lambda: directory("POST", "/providers/Microsoft.Privlink/principals",
                                 {"kind": "ServicePrincipal", "displayName": "py-lonely"}))


def role_definition_by_name():
    found = list(admin_authz.role_definitions.list("/subscriptions/" + SUB,
                                                   filter="roleName eq 'Network Contributor'"))
    expect(len(found) == 1 and found[0].name == NETWORK_CONTRIBUTOR, str(found))
    expect("Microsoft.Network/*" in found[0].permissions[0].actions, "actions")
    return found[0]


role = check("authorization SDK: role_definitions.list(filter=roleName)", role_definition_by_name)
rg_scope = "/subscriptions/%s/resourceGroups/%s" % (SUB, RG)
assignment_name = str(uuid.uuid4())


def create_assignment():
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
    ra = admin_authz.role_assignments.create(
        rg_scope, assignment_name,
        RoleAssignmentCreateParameters(role_definition_id=role.id, principal_id=sp["objectId"],
                                       principal_type="ServicePrincipal"))
    expect(ra.principal_id == sp["objectId"], "principal")
    expect(ra.scope.lower() == rg_scope.lower(), ra.scope)


check("authorization SDK: role_assignments.create at a resource group", create_assignment)


def list_assignments():
    at = list(admin_authz.role_assignments.list_for_scope(rg_scope, filter="atScope()"))
    expect(any(a.name == assignment_name for a in at), [a.name for a in at])
    mine = list(admin_authz.role_assignments.list_for_subscription(
        filter="principalId eq '%s'" % sp["objectId"]))
    expect([a.name for a in mine] == [assignment_name], [a.name for a in mine])


check("authorization SDK: list_for_scope(atScope()) and list_for_subscription(principalId)",
      list_assignments)

# --- the Network Contributor: GUID tenant (beta kwarg of azure-identity 1.13.0b2) ----------------
sp_cred = ClientSecretCredential(TENANT, sp["appId"], sp["secret"], authority=BASE,
                                 instance_discovery=False)
net = NetworkManagementClient(sp_cred, SUB, **KW)
rm = ResourceManagementClient(sp_cred, SUB, **KW)
subs = SubscriptionClient(sp_cred, base_url=BASE, credential_scopes=SCOPES)


def sees_subscription():
    listed = [s.subscription_id for s in subs.subscriptions.list()]
    expect(listed == [SUB], listed)


check("service principal sees exactly its subscription", sees_subscription)


def lonely_sees_nothing():
    cred = ClientSecretCredential("adfs", lonely["appId"], lonely["secret"], authority=BASE)
    listed = list(SubscriptionClient(cred, base_url=BASE, credential_scopes=SCOPES)
                  .subscriptions.list())
    expect(listed == [], listed)


check("a principal without roles sees an empty subscription list", lonely_sees_nothing)


def create_vnet():
    vnet = net.virtual_networks.begin_create_or_update(RG, "vnet1", {
        "location": "local",
        "address_space": {"address_prefixes": ["10.30.0.0/16"]},
        "subnets": [{"name": "default", "address_prefix": "10.30.1.0/24"}],
    }).result()
    expect(vnet.provisioning_state == "Succeeded", vnet.provisioning_state)
    expect([s.name for s in vnet.subnets] == ["default"], vnet.subnets)


check("network: virtual_networks.begin_create_or_update", create_vnet)


def create_subnet():
    subnet = net.subnets.begin_create_or_update(RG, "vnet1", "backend",
                                                {"address_prefix": "10.30.2.0/24"}).result()
    expect(subnet.address_prefix == "10.30.2.0/24", subnet.address_prefix)


check("network: subnets.begin_create_or_update", create_subnet)


def create_nic():
    subnet = net.subnets.get(RG, "vnet1", "default")
    nic = net.network_interfaces.begin_create_or_update(RG, "nic1", {
        "location": "local",
        "ip_configurations": [{"name": "ipconfig1", "subnet": {"id": subnet.id}}],
    }).result()
    ip = nic.ip_configurations[0].private_ip_address
    expect(ip.startswith("10.30.1."), ip)


check("network: network_interfaces.begin_create_or_update", create_nic)


def create_lb():
    subnet = net.subnets.get(RG, "vnet1", "backend")
    lb_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/loadBalancers/lb1" % (
        SUB, RG)
    lb = net.load_balancers.begin_create_or_update(RG, "lb1", {
        "location": "local",
        "sku": {"name": "Standard"},
        "frontend_ip_configurations": [{"name": "fe1", "subnet": {"id": subnet.id}}],
        "backend_address_pools": [{"name": "pool1"}],
        "probes": [{"name": "probe1", "protocol": "Tcp", "port": 80}],
        "load_balancing_rules": [{
            "name": "rule1", "protocol": "Tcp", "frontend_port": 80, "backend_port": 8080,
            "frontend_ip_configuration": {"id": lb_id + "/frontendIPConfigurations/fe1"},
            "backend_address_pool": {"id": lb_id + "/backendAddressPools/pool1"},
            "probe": {"id": lb_id + "/probes/probe1"},
        }],
    }).result()
    expect(lb.frontend_ip_configurations[0].private_ip_address.startswith("10.30.2."),
           lb.frontend_ip_configurations[0].private_ip_address)


check("network: load_balancers.begin_create_or_update (Standard internal)", create_lb)


def lists():
    vnets = [v.name for v in net.virtual_networks.list(RG)]
    expect(vnets == ["vnet1"], vnets)
    nics = [n.name for n in net.network_interfaces.list(RG)]
    expect(nics == ["nic1"], nics)
    everywhere = [v.name for v in net.virtual_networks.list_all()]
    expect(everywhere == ["vnet1"], everywhere)


check("network: list in the group and in the subscription", lists)

check("denied: vnet in a resource group without a role",
      lambda: expect_authorization_failed(
          lambda: net.virtual_networks.begin_create_or_update(OTHER_RG, "vnet9", {
              "location": "local", "address_space": {"address_prefixes": ["10.39.0.0/16"]}}).result(),
          "Microsoft.Network/virtualNetworks/write"))
check("denied: resource group create",
      lambda: expect_authorization_failed(
          lambda: rm.resource_groups.create_or_update(RG + "-new", {"location": "local"}),
          "Microsoft.Resources/subscriptions/resourceGroups/write"))


def nothing_was_created():
    try:
        admin_net.virtual_networks.get(OTHER_RG, "vnet9")
    except ResourceNotFoundError:
        return
    raise AssertionError("the refused PUT created the vnet")


check("a refused request changes nothing", nothing_was_created)


class StaticToken:
    def __init__(self, token):
        self.token = token

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self.token, 4102444800)


def tampered_token_is_refused():
    good = sp_cred.get_token(*SCOPES).token
    header, payload, signature = good.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    bad = NetworkManagementClient(StaticToken(".".join([header, payload, flipped])), SUB, **KW)
    try:
        list(bad.virtual_networks.list(RG))
    except ClientAuthenticationError as e:
        expect(e.status_code == 401, e.status_code)
        return
    raise AssertionError("a tampered token was accepted")


check("a tampered token is refused with 401 (ClientAuthenticationError)", tampered_token_is_refused)


def cleanup():
    net.network_interfaces.begin_delete(RG, "nic1").result()
    net.load_balancers.begin_delete(RG, "lb1").result()
    try:
        net.network_interfaces.get(RG, "nic1")
    except ResourceNotFoundError:
        pass
    else:
        raise AssertionError("nic1 still exists")
    admin_rm.resource_groups.begin_delete(RG).result()
    admin_rm.resource_groups.begin_delete(OTHER_RG).result()
    expect(not admin_rm.resource_groups.check_existence(RG), "group still exists")


check("delete: nic, lb, resource groups", cleanup)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
