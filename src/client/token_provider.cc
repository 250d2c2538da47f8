#include "client/token_provider.h"

#include <nlohmann/json.hpp>

#include "client/url.h"

namespace privlink::client {
namespace {

Status statusForHttp(int httpStatus, std::string code, std::string message) {
  switch (httpStatus) {
    case 400:
      return Status::InvalidArgument(std::move(code), std::move(message));
    case 401:
      return Status::Unauthenticated(std::move(code), std::move(message));
    case 403:
      return Status::PermissionDenied(std::move(code), std::move(message));
    case 404:
    case 410:
      return Status::NotFound(std::move(code), std::move(message));
    case 409:
      return Status::Conflict(std::move(code), std::move(message));
    case 412:
      return Status::PreconditionFailed(std::move(code), std::move(message));
    default:
      break;
  }
  if (httpStatus >= 500 || httpStatus == 429) {
    // Status fixes the code for these classes; keep the server's code visible in the message.
    std::string text = code.empty() ? message : "(" + code + ") " + message;
    return httpStatus == 500 ? Status::Internal(std::move(text))
                             : Status::Unavailable(std::move(text));
  }
  return Status::InvalidArgument(std::move(code), std::move(message));
}

}  // namespace

Status statusFromErrorResponse(int httpStatus, const std::string& body, const std::string& what) {
  std::string code;
  std::string message;
  std::string target;
  try {
    nlohmann::json j = nlohmann::json::parse(body);
    if (j.is_object() && j.contains("error")) {
      const auto& e = j["error"];
      if (e.is_object()) {
        if (e.contains("code") && e["code"].is_string()) code = e["code"].get<std::string>();
        if (e.contains("message") && e["message"].is_string()) {
          message = e["message"].get<std::string>();
        }
        if (e.contains("target") && e["target"].is_string()) {
          target = e["target"].get<std::string>();
        }
      } else if (e.is_string()) {
        code = e.get<std::string>();
        if (j.contains("error_description") && j["error_description"].is_string()) {
          message = j["error_description"].get<std::string>();
        }
      }
    }
  } catch (const nlohmann::json::exception&) {
    // Not JSON: fall through to the generic message below.
  }
  if (code.empty()) code = "HttpStatus" + std::to_string(httpStatus);
  if (message.empty()) {
    std::string snippet = body.substr(0, 200);
    message = what + " returned HTTP " + std::to_string(httpStatus) +
              (snippet.empty() ? std::string() : ": " + snippet);
  }
  Status s = statusForHttp(httpStatus, std::move(code), std::move(message));
  return target.empty() ? s : s.withTarget(target);
}

ClientCredentialsTokenProvider::ClientCredentialsTokenProvider(HttpTransport& transport,
                                                               ClientCredentials credentials,
                                                               Clock now)
    : transport_(transport), credentials_(std::move(credentials)), now_(std::move(now)) {}

namespace {
Result<nlohmann::json> getJson(HttpTransport& transport, const std::string& url) {
  HttpRequest req{"GET", url, {}, {}};
  ASSIGN_OR_RETURN(HttpResponse res, transport.send(req));
  if (res.status != 200) return statusFromErrorResponse(res.status, res.body, "GET " + url);
  try {
    return nlohmann::json::parse(res.body);
  } catch (const nlohmann::json::exception& e) {
    return Status::Internal("GET " + url + " returned invalid JSON: " + e.what());
  }
}
}  // namespace

Status ClientCredentialsTokenProvider::discover() {
  std::string metadataUrl =
      resolveUrl(credentials_.endpoint, "/metadata/endpoints?api-version=2015-01-01");
  ASSIGN_OR_RETURN(nlohmann::json metadata, getJson(transport_, metadataUrl));
  std::string loginEndpoint;
  std::string audience;
  try {
    const auto& auth = metadata.at("authentication");
    loginEndpoint = auth.at("loginEndpoint").get<std::string>();
    audience = auth.at("audiences").at(0).get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return Status::Internal(metadataUrl +
                            " lacks authentication.loginEndpoint or authentication.audiences[0]; "
                            "is the endpoint a privlinkd (ARM) server?");
  }
  std::string oidcUrl = trimTrailingSlashes(loginEndpoint) + "/.well-known/openid-configuration";
  ASSIGN_OR_RETURN(nlohmann::json oidc, getJson(transport_, oidcUrl));
  if (!oidc.is_object() || !oidc.contains("token_endpoint") ||
      !oidc["token_endpoint"].is_string()) {
    return Status::Internal(oidcUrl + " lacks token_endpoint");
  }
  tokenEndpoint_ = oidc["token_endpoint"].get<std::string>();
  scope_ = trimTrailingSlashes(audience) + "/.default";
  return Status::Ok();
}

Result<std::string> ClientCredentialsTokenProvider::accessToken() {
  auto now = now_();
  if (token_ && now < token_->refreshAt) return token_->token;
  if (tokenEndpoint_.empty()) RETURN_IF_ERROR(discover());
  HttpRequest req;
  req.method = "POST";
  req.url = tokenEndpoint_;
  req.headers["Content-Type"] = "application/x-www-form-urlencoded";
  req.body = formBody({{"grant_type", "client_credentials"},
                       {"client_id", credentials_.clientId},
                       {"client_secret", credentials_.clientSecret},
                       {"scope", scope_}});
  ASSIGN_OR_RETURN(HttpResponse res, transport_.send(req));
  if (res.status != 200) {
    Status s = statusFromErrorResponse(res.status, res.body, "POST " + tokenEndpoint_);
    if (res.status == 400 || res.status == 401) {
      return Status::Unauthenticated(s.armCode(),
                                     "the token issuer refused client " + credentials_.clientId +
                                         ": " + s.message() +
                                         "; check the client id and secret (privlink login)");
    }
    return s;
  }
  std::string token;
  long long expiresIn = 3600;
  try {
    nlohmann::json j = nlohmann::json::parse(res.body);
    token = j.at("access_token").get<std::string>();
    if (j.contains("expires_in")) {
      const auto& e = j["expires_in"];
      expiresIn = e.is_string() ? std::stoll(e.get<std::string>()) : e.get<long long>();
    }
  } catch (const std::exception& e) {
    return Status::Internal("the token response from " + tokenEndpoint_ +
                            " lacks access_token/expires_in: " + e.what());
  }
  auto lifetime = std::chrono::seconds(std::max<long long>(expiresIn, 0));
  auto margin = std::min<std::chrono::seconds>(std::chrono::minutes(5), lifetime / 2);
  token_ = Cached{token, now + lifetime - margin};
  return token;
}

}  // namespace privlink::client
