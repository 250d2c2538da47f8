#include "api/arm_error.h"

#include <gtest/gtest.h>

namespace privlink::api {
namespace {

TEST(ArmErrorTest, OneMappingForEveryCode) {
  EXPECT_EQ(httpStatusFor(StatusCode::kOk), 200);
  EXPECT_EQ(httpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(httpStatusFor(StatusCode::kLimitExceeded), 400);
  EXPECT_EQ(httpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(httpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(httpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(httpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(httpStatusFor(StatusCode::kConflict), 409);
  EXPECT_EQ(httpStatusFor(StatusCode::kPreconditionFailed), 412);
  EXPECT_EQ(httpStatusFor(StatusCode::kInternal), 500);
  EXPECT_EQ(httpStatusFor(StatusCode::kUnavailable), 503);
}

TEST(ArmErrorTest, BodyShape) {
  auto body = armErrorBody(Status::InvalidArgument("InvalidX", "x is wrong").withTarget("x"));
  EXPECT_EQ(body, (nlohmann::json{{"error", {{"code", "InvalidX"},
                                             {"message", "x is wrong"},
                                             {"target", "x"}}}}));
  auto noTarget = armErrorBody(Status::NotFound("ResourceNotFound", "gone"));
  EXPECT_FALSE(noTarget["error"].contains("target"));
  HttpResponse response = armErrorResponse(Status::LimitExceeded("QuotaExceeded", "too many"));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(nlohmann::json::parse(response.body)["error"]["code"], "QuotaExceeded");
  HttpResponse notAllowed = methodNotAllowedResponse("POST", "GET");
  EXPECT_EQ(notAllowed.status, 405);
  EXPECT_EQ(nlohmann::json::parse(notAllowed.body)["error"]["code"], "MethodNotAllowed");
}

TEST(HttpTypesTest, HeadersAreCaseInsensitive) {
  HttpRequest request;
  request.headers["X-Ms-Client-Request-Id"] = "abc";
  EXPECT_EQ(request.header("x-ms-client-request-id"), "abc");
  EXPECT_EQ(request.header("missing"), "");
  HttpResponse response = HttpResponse::json(201, "{}");
  response.setHeader("content-type", "text/plain");
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].second, "text/plain");
  response.setHeader("Retry-After", "1");
  EXPECT_EQ(response.headers.size(), 2u);
}

}  // namespace
}  // namespace privlink::api
