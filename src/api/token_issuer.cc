#include "api/token_issuer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "common/guid.h"
#include "common/resource_id.h"

namespace privlink::api {
namespace {

using nlohmann::json;

HttpResponse oauthError(int status, std::string_view error, std::string_view description) {
  json body = {{"error", error}, {"error_description", description}};
  auto response = HttpResponse::json(status, body.dump());
  response.setHeader("Cache-Control", "no-store");
  return response;
}

HttpResponse jsonResponse(const json& body) {
  auto response = HttpResponse::json(200, body.dump());
  return response;
}

std::string trimSlashes(std::string_view s) {
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return std::string(s);
}

std::vector<std::string> splitSpaces(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find(' ', start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

const std::set<std::string> kOidcScopes = {"openid", "profile", "offline_access", "email"};

}  // namespace

int64_t IdentityConfig::now() const {
  if (clock) return clock();
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TokenIssuer::TokenIssuer(IdentityConfig config, const SigningKey& key,
                         PrincipalDirectory& principals)
    : config_(std::move(config)), key_(key), principals_(principals) {}

bool TokenIssuer::ownsPath(std::string_view path) {
  auto segs = pathSegments(path);
  if (segs.empty()) return false;
  std::string first = toLower(segs[0]);
  return first == "metadata" || first == "adfs" || first == "msi" || first == "common" ||
         first == "organizations" || isGuid(first);
}

std::string TokenIssuer::issuerFor(Flavour flavour) const {
  switch (flavour) {
    case Flavour::kAdfs:
      return config_.adfsIssuer();
    case Flavour::kV2:
      return config_.v2Issuer();
    case Flavour::kV1:
      return config_.v1Issuer();
  }
  return config_.adfsIssuer();
}

HttpResponse TokenIssuer::handle(const HttpRequest& request, const Target& target) {
  auto segs = pathSegments(target.path);
  std::vector<std::string> lower;
  for (const auto& s : segs) lower.push_back(toLower(s));
  const std::string& method = request.method;
  auto is = [&](std::initializer_list<std::string_view> want) {
    if (lower.size() != want.size()) return false;
    size_t i = 0;
    for (auto w : want) {
      if (w != "*" && lower[i] != w) return false;
      ++i;
    }
    return true;
  };
  auto notAllowed = [&](std::string_view allowed) {
    auto r = oauthError(405, "invalid_request",
                        "Method " + method + " is not allowed on " + target.path + "; use " +
                            std::string(allowed) + ".");
    r.setHeader("Allow", std::string(allowed));
    return r;
  };

  if (is({"metadata", "endpoints"})) {
    if (method != "GET" && method != "HEAD") return notAllowed("GET");
    return metadataEndpoints(target);
  }
  if (is({"msi", "token"})) {
    if (method != "GET" && method != "POST") return notAllowed("POST");
    return managedIdentityToken(request, target);
  }
  if (lower.size() == 3 && lower[0] == "common" && lower[1] == "userrealm") {
    if (method != "GET") return notAllowed("GET");
    auto user = percentDecode(segs[2], false).value_or(segs[2]);
    return jsonResponse({{"ver", "1.0"},
                         {"account_type", "Managed"},
                         {"domain_name", user.substr(user.find('@') + 1)},
                         {"cloud_instance_name", "localhost"},
                         {"cloud_audience_urn", "urn:federation:privlink"}});
  }

  std::optional<Flavour> flavour;
  size_t rest = 1;
  if (!lower.empty() && lower[0] == "adfs") {
    flavour = Flavour::kAdfs;
  } else if (!lower.empty() && isGuid(lower[0])) {
    if (!iequals(lower[0], config_.tenantId)) {
      return oauthError(400, "invalid_tenant",
                        "AADSTS90002: Tenant '" + segs[0] +
                            "' not found. This server's tenant is " + config_.tenantId +
                            "; use it as the tenant (az login --tenant " + config_.tenantId + ").");
    }
    bool v2 = (lower.size() > 1 && lower[1] == "v2.0") ||
              (lower.size() > 2 && (lower[1] == "oauth2" || lower[1] == "discovery") &&
               lower[2] == "v2.0");
    flavour = v2 ? Flavour::kV2 : Flavour::kV1;
  } else if (!lower.empty() && (lower[0] == "common" || lower[0] == "organizations")) {
    return oauthError(400, "invalid_tenant",
                      "The tenant '" + segs[0] +
                          "' is not supported here; use this server's "
                          "tenant GUID " +
                          config_.tenantId + " (or the authority BASE/adfs).");
  }
  if (flavour) {
    std::vector<std::string> tail(lower.begin() + rest, lower.end());
    if (!tail.empty() && tail[0] == "v2.0") tail.erase(tail.begin());  // /{t}/v2.0/.well-known
    auto tailIs = [&](std::initializer_list<std::string_view> want) {
      if (tail.size() != want.size()) return false;
      size_t i = 0;
      for (auto w : want) {
        if (tail[i++] != w) return false;
      }
      return true;
    };
    if (tailIs({".well-known", "openid-configuration"})) {
      if (method != "GET" && method != "HEAD") return notAllowed("GET");
      return openidConfiguration(*flavour);
    }
    if (tailIs({"discovery", "keys"}) || tailIs({"discovery", "v2.0", "keys"})) {
      if (method != "GET" && method != "HEAD") return notAllowed("GET");
      return jwks();
    }
    if (tailIs({"oauth2", "token"}) || tailIs({"oauth2", "v2.0", "token"})) {
      if (method != "POST") return notAllowed("POST");
      return token(request, *flavour);
    }
    if (tailIs({"oauth2", "authorize"}) || tailIs({"oauth2", "v2.0", "authorize"}) ||
        tailIs({"oauth2", "devicecode"}) || tailIs({"oauth2", "v2.0", "devicecode"})) {
      return oauthError(400, "unsupported_response_type",
                        "Interactive and device-code sign-in are not supported by privlinkd; use "
                        "a service principal (client_credentials) or a user name and password.");
    }
  }
  return oauthError(404, "invalid_request",
                    "No token-issuer endpoint at " + target.path + ". See " + config_.baseUrl +
                        "/adfs/.well-known/openid-configuration.");
}

HttpResponse TokenIssuer::metadataEndpoints(const Target& target) const {
  const std::string& base = config_.baseUrl;
  auto query = parseForm(target.query);
  std::string apiVersion = query.count("api-version") ? query["api-version"] : "";
  json authentication = {{"loginEndpoint", base + "/adfs"}, {"audiences", {base + "/"}}};
  if (apiVersion >= "2019-05-01") {
    authentication["tenant"] = "adfs";
    authentication["identityProvider"] = "ADFS";
    json cloud = {
        {"name", "Local"},
        {"resourceManager", base + "/"},
        {"authentication", authentication},
        {"portal", base + "/portal/"},
        {"gallery", base + "/gallery/"},
        {"graph", base + "/graph/"},
        {"graphAudience", base + "/graph/"},
        {"microsoftGraphResourceId", base + "/graph/"},
        {"sqlManagement", base + "/sql/"},
        {"batch", base + "/batch/"},
        {"activeDirectoryDataLake", base + "/datalake/"},
        {"suffixes",
         {{"storage", "local.test"},
          {"keyVaultDns", "vault.local.test"},
          {"sqlServerHostname", "database.local.test"},
          {"acrLoginServer", "azurecr.local.test"},
          {"azureDataLakeStoreFileSystem", "datalake.local.test"},
          {"azureDataLakeAnalyticsCatalogAndJob", "datalakeanalytics.local.test"}}},
    };
    return jsonResponse(json::array({cloud}));
  }
  return jsonResponse({{"galleryEndpoint", base + "/gallery/"},
                       {"graphEndpoint", base + "/graph/"},
                       {"portalEndpoint", base + "/portal/"},
                       {"authentication", authentication}});
}

HttpResponse TokenIssuer::openidConfiguration(Flavour flavour) const {
  const std::string& base = config_.baseUrl;
  std::string prefix;
  std::string keys;
  std::string oauth;
  switch (flavour) {
    case Flavour::kAdfs:
      prefix = base + "/adfs";
      oauth = prefix + "/oauth2";
      keys = prefix + "/discovery/keys";
      break;
    case Flavour::kV2:
      prefix = base + "/" + config_.tenantId;
      oauth = prefix + "/oauth2/v2.0";
      keys = prefix + "/discovery/v2.0/keys";
      break;
    case Flavour::kV1:
      prefix = base + "/" + config_.tenantId;
      oauth = prefix + "/oauth2";
      keys = prefix + "/discovery/keys";
      break;
  }
  std::string issuer = issuerFor(flavour);
  return jsonResponse({
      {"issuer", issuer},
      {"access_token_issuer", issuer},
      {"authorization_endpoint", oauth + "/authorize"},
      {"token_endpoint", oauth + "/token"},
      {"jwks_uri", keys},
      {"response_types_supported",
       {"code", "id_token", "code id_token", "token id_token", "token"}},
      {"response_modes_supported", {"query", "fragment", "form_post"}},
      {"subject_types_supported", {"public"}},
      {"id_token_signing_alg_values_supported", {"RS256"}},
      {"token_endpoint_auth_methods_supported", {"client_secret_post", "client_secret_basic"}},
      {"grant_types_supported", {"client_credentials", "password", "refresh_token"}},
      {"scopes_supported", {"openid", "profile", "email", "offline_access"}},
      {"claims_supported",
       {"sub", "iss", "aud", "exp", "iat", "nbf", "oid", "tid", "upn", "preferred_username", "name",
        "appid"}},
      {"tenant_region_scope", nullptr},
      {"cloud_instance_name", "localhost"},
  });
}

HttpResponse TokenIssuer::jwks() const {
  return jsonResponse({{"keys", json::array({key_.publicJwk()})}});
}

std::optional<std::string> TokenIssuer::audienceFor(const std::string& resource) const {
  std::string trimmed = trimSlashes(resource);
  if (iequals(trimmed, config_.baseUrl)) return config_.armAudience();
  if (iequals(trimmed, config_.baseUrl + "/graph")) return config_.graphAudience();
  return std::nullopt;
}

Result<std::string> TokenIssuer::accessTokenFor(const Principal& p, const std::string& appId,
                                                Flavour flavour, int64_t now,
                                                const std::string& audience) const {
  bool user = p.kind == PrincipalKind::kUser;
  json access = {
      {"aud", audience},
      {"iss", issuerFor(flavour)},
      {"iat", now},
      {"nbf", now},
      {"exp", now + config_.accessTokenLifetimeSeconds},
      {"tid", p.tenantId},
      {"oid", p.objectId},
      {"sub", p.objectId},
      {"appid", appId},
      {"azp", appId},
      {"idtyp", user ? "user" : "app"},
      {"ver", flavour == Flavour::kV2 ? "2.0" : "1.0"},
      {"uti", randomBase64Url(16)},
  };
  if (user) {
    access["upn"] = p.userPrincipalName;
    access["unique_name"] = p.userPrincipalName;
    access["name"] = p.displayName;
  }
  return signJwt(key_, kAccessTokenType, access);
}

HttpResponse TokenIssuer::managedIdentityToken(const HttpRequest& request, const Target& target) {
  if (config_.managedIdentityObjectId.empty()) {
    return oauthError(400, "invalid_request",
                      "The managed identity endpoint is off; start privlinkd with "
                      "--managed-identity to serve tokens for its admin principal at /msi/token.");
  }
  if (!iequals(request.header("Metadata"), "true")) {
    return oauthError(400, "invalid_request", "Required metadata header not specified");
  }
  const std::string& remote = request.remoteAddress;
  if (!remote.empty() && remote.rfind("127.", 0) != 0 && remote.rfind("::1", 0) != 0 &&
      remote.rfind("[::1]", 0) != 0) {
    return oauthError(403, "access_denied",
                      "The managed identity endpoint only answers clients on this host.");
  }
  auto form = parseForm(request.body);
  auto query = parseForm(target.query);
  std::string resource = form.count("resource") ? form["resource"] : query["resource"];
  if (resource.empty()) {
    return oauthError(
        400, "invalid_request",
        "The resource parameter is missing; send resource=" + config_.armAudience() + ".");
  }
  std::optional<std::string> audience = audienceFor(resource);
  if (!audience) {
    return oauthError(400, "invalid_resource",
                      "AADSTS500011: The resource principal named " + resource +
                          " was not found. This server issues tokens for its ARM endpoint and "
                          "its Graph endpoint only; request the resource '" +
                          config_.armAudience() + "' or '" + config_.graphAudience() + "'.");
  }
  auto found = principals_.byObjectId(config_.managedIdentityObjectId);
  if (!found.ok()) return oauthError(500, "server_error", found.status().message());
  if (!*found) {
    return oauthError(400, "invalid_request", "The managed identity's principal no longer exists.");
  }
  int64_t now = config_.now();
  auto token = accessTokenFor(**found, (*found)->appId, Flavour::kAdfs, now, *audience);
  if (!token.ok()) return oauthError(500, "server_error", token.status().message());
  auto out = jsonResponse({
      {"token_type", "Bearer"},
      {"access_token", *token},
      {"expires_in", std::to_string(config_.accessTokenLifetimeSeconds)},
      {"expires_on", std::to_string(now + config_.accessTokenLifetimeSeconds)},
      {"not_before", std::to_string(now)},
      {"resource", resource},
      {"client_id", (*found)->appId},
  });
  out.setHeader("Cache-Control", "no-store");
  return out;
}

HttpResponse TokenIssuer::token(const HttpRequest& request, Flavour flavour) {
  auto form = parseForm(request.body);
  auto field = [&](const char* name) -> std::string {
    auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  };
  const std::string base = config_.baseUrl;
  std::string grantType = field("grant_type");
  std::string clientId = field("client_id");
  std::string clientSecret = field("client_secret");

  // HTTP Basic client authentication (RFC 6749 §2.3.1: both parts form-url-encoded).
  std::string authorization = request.header("Authorization");
  if (istartsWith(authorization, "Basic ")) {
    auto decoded = base64Decode(authorization.substr(6));
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return oauthError(401, "invalid_client",
                        "The Authorization: Basic header is malformed; send "
                        "base64(client_id:client_secret).");
    }
    clientId = percentDecode(decoded->substr(0, colon)).value_or("");
    clientSecret = percentDecode(decoded->substr(colon + 1)).value_or("");
  }

  // The requested resource must be this server's ARM endpoint or its Graph endpoint (one of
  // them per token).
  std::optional<std::string> audience;
  std::vector<std::string> requested;
  for (const auto& s : splitSpaces(field("scope"))) {
    if (kOidcScopes.count(toLower(s))) continue;
    requested.push_back(s);
  }
  for (const auto& s : requested) {
    std::string resource = s;
    if (resource.size() >= 9 && iequals(resource.substr(resource.size() - 9), "/.default")) {
      resource.resize(resource.size() - 9);
    } else if (size_t slash = resource.rfind('/');
               slash != std::string::npos && slash + 1 < resource.size()) {
      resource.resize(slash);  // "BASE//user_impersonation"
    }
    std::optional<std::string> wanted = audienceFor(resource);
    if (!wanted) {
      return oauthError(400, "invalid_scope",
                        "AADSTS500011: The resource principal named " + s +
                            " was not found. This server issues tokens for its ARM endpoint "
                            "and its Graph endpoint only; request the scope '" +
                            base + "/.default' or '" + config_.graphAudience() + ".default'.");
    }
    if (audience && *audience != *wanted) {
      return oauthError(400, "invalid_scope",
                        "AADSTS28000: Provided value for the input parameter scope is not valid "
                        "because it contains more than one resource; request " +
                            *audience + " and " + *wanted + " in separate token requests.");
    }
    audience = wanted;
  }
  std::string resource = field("resource");
  if (!resource.empty()) {
    std::optional<std::string> wanted = audienceFor(resource);
    if (!wanted || (audience && *audience != *wanted)) {
      return oauthError(400, "invalid_resource",
                        "AADSTS500011: The resource principal named " + resource +
                            " was not found. This server issues tokens for its ARM endpoint and "
                            "its Graph endpoint only; request the resource '" +
                            base + "/' or '" + config_.graphAudience() + "'.");
    }
    audience = wanted;
  }
  if (!audience) audience = config_.armAudience();
  std::string scopeOut;
  for (const auto& s : requested) scopeOut += (scopeOut.empty() ? "" : " ") + s;
  if (scopeOut.empty()) scopeOut = *audience + ".default";

  std::optional<Principal> principal;
  bool wantsRefresh = false;
  std::string appId;
  if (grantType == "client_credentials") {
    if (clientId.empty() || clientSecret.empty()) {
      if (!field("client_assertion").empty()) {
        return oauthError(400, "invalid_client",
                          "Certificate credentials (client_assertion) are not supported; "
                          "authenticate with client_id and client_secret.");
      }
      return oauthError(400, "invalid_request",
                        "client_credentials needs client_id and client_secret (in the form or "
                        "as HTTP Basic).");
    }
    auto found = principals_.byAppId(clientId);
    if (!found.ok()) return oauthError(500, "server_error", found.status().message());
    if (!*found || !verifySecret(clientSecret, (*found)->secretHash)) {
      spdlog::warn("token: client_credentials refused for client_id {}", clientId);
      return oauthError(401, "invalid_client",
                        "AADSTS7000215: Invalid client secret provided, or no service principal "
                        "has client_id '" +
                            clientId +
                            "'. Check the clientId and clientSecret "
                            "(privlinkd writes the admin's to admin.json in its state directory).");
    }
    principal = std::move(**found);
    appId = principal->appId;
  } else if (grantType == "password") {
    std::string username = field("username");
    std::string password = field("password");
    if (username.empty() || password.empty()) {
      return oauthError(400, "invalid_request", "The password grant needs username and password.");
    }
    auto found = principals_.byUserPrincipalName(username);
    if (!found.ok()) return oauthError(500, "server_error", found.status().message());
    if (!*found || !verifySecret(password, (*found)->secretHash)) {
      spdlog::warn("token: password grant refused for user {}", username);
      return oauthError(400, "invalid_grant",
                        "AADSTS50126: Error validating credentials due to invalid username or "
                        "password.");
    }
    principal = std::move(**found);
    appId = clientId;
    wantsRefresh = true;
  } else if (grantType == "refresh_token") {
    JwtExpectations expect;
    expect.issuers = config_.issuers();
    expect.audiences = {std::string(kRefreshAudience)};
    expect.type = std::string(kRefreshTokenType);
    expect.now = config_.now();
    expect.leewaySeconds = 0;
    auto verified = verifyJwt(field("refresh_token"), key_, expect);
    if (!verified.ok()) {
      return oauthError(400, "invalid_grant",
                        "AADSTS700082: The refresh token is invalid or has expired (" +
                            verified.status().message() + "). Sign in again.");
    }
    const auto& claims = verified->claims;
    std::string oid = claims.value("oid", "");
    std::string tokenClient = claims.value("client_id", "");
    if (!clientId.empty() && !iequals(clientId, tokenClient)) {
      return oauthError(400, "invalid_grant",
                        "AADSTS70000: The refresh token was issued to another client_id.");
    }
    auto found = principals_.byObjectId(oid);
    if (!found.ok()) return oauthError(500, "server_error", found.status().message());
    if (!*found) {
      return oauthError(400, "invalid_grant",
                        "AADSTS700082: The principal of this refresh token no longer exists.");
    }
    principal = std::move(**found);
    appId = tokenClient;
    wantsRefresh = true;
  } else if (grantType.empty()) {
    return oauthError(400, "invalid_request", "The request body must contain grant_type.");
  } else {
    return oauthError(400, "unsupported_grant_type",
                      "The grant type '" + grantType +
                          "' is not supported; use "
                          "client_credentials, password or refresh_token.");
  }

  const Principal& p = *principal;
  bool user = p.kind == PrincipalKind::kUser;
  int64_t now = config_.now();
  int64_t exp = now + config_.accessTokenLifetimeSeconds;
  std::string issuer = issuerFor(flavour);
  auto accessToken = accessTokenFor(p, appId, flavour, now, *audience);
  if (!accessToken.ok()) return oauthError(500, "server_error", accessToken.status().message());

  json response = {
      {"token_type", "Bearer"},
      {"scope", scopeOut},
      {"expires_in", config_.accessTokenLifetimeSeconds},
      {"ext_expires_in", config_.accessTokenLifetimeSeconds},
      {"expires_on", std::to_string(exp)},
      {"not_before", std::to_string(now)},
      {"resource", *audience},
      {"access_token", *accessToken},
  };

  if (wantsRefresh) {
    json refresh = {
        {"aud", kRefreshAudience},
        {"iss", issuer},
        {"iat", now},
        {"exp", now + config_.refreshTokenLifetimeSeconds},
        {"oid", p.objectId},
        {"tid", p.tenantId},
        {"client_id", appId},
        {"uti", randomBase64Url(16)},
    };
    auto refreshToken = signJwt(key_, kRefreshTokenType, refresh);
    json id = {
        {"aud", appId},
        {"iss", issuer},
        {"iat", now},
        {"nbf", now},
        {"exp", exp},
        {"tid", p.tenantId},
        {"oid", p.objectId},
        {"sub", p.objectId},
        {"upn", p.userPrincipalName},
        {"unique_name", p.userPrincipalName},
        {"preferred_username", p.userPrincipalName},
        {"name", p.displayName},
        {"ver", flavour == Flavour::kV2 ? "2.0" : "1.0"},
    };
    auto idToken = signJwt(key_, "JWT", id);
    if (!refreshToken.ok() || !idToken.ok()) {
      return oauthError(500, "server_error", "Cannot sign the refresh or id token");
    }
    response["refresh_token"] = *refreshToken;
    response["refresh_token_expires_in"] = config_.refreshTokenLifetimeSeconds;
    response["id_token"] = *idToken;
    if (field("client_info") == "1") {
      response["client_info"] =
          base64UrlEncode(json({{"uid", p.objectId}, {"utid", p.tenantId}}).dump());
    }
  }
  auto out = jsonResponse(response);
  out.setHeader("Cache-Control", "no-store");
  out.setHeader("Pragma", "no-cache");
  spdlog::debug("token: issued {} token for {} ({})", grantType, p.objectId,
                user ? p.userPrincipalName : p.appId);
  return out;
}

}  // namespace privlink::api
