#include "api/http_types.h"

#include <algorithm>
#include <cctype>

namespace privlink::api {

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) <
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::string HttpRequest::header(std::string_view name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

void HttpResponse::setHeader(std::string name, std::string value) {
  CaseInsensitiveLess less;
  for (auto& [k, v] : headers) {
    if (!less(k, name) && !less(name, k)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

HttpResponse HttpResponse::json(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.setHeader("Content-Type", "application/json; charset=utf-8");
  return response;
}

}  // namespace privlink::api
