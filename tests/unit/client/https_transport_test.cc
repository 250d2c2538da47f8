#include "client/https_transport.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace privlink::client {
namespace {

TEST(HttpsTransportTest, UnreadableCaFileIsInvalidCaCertificate) {
  HttpsTransportOptions options;
  options.caCertificate = "/nonexistent/ca.pem";
  auto transport = makeHttpsTransport(options);
  ASSERT_FALSE(transport.ok());
  EXPECT_EQ(transport.status().armCode(), "InvalidCaCertificate");
}

TEST(HttpsTransportTest, GarbagePemIsInvalidCaCertificate) {
  HttpsTransportOptions options;
  options.caCertificate = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  EXPECT_EQ(makeHttpsTransport(options).status().armCode(), "InvalidCaCertificate");
}

TEST(HttpsTransportTest, RefusesPlainHttp) {
  auto transport = makeHttpsTransport({});
  ASSERT_TRUE(transport.ok()) << transport.status().toString();
  auto res = (*transport)->send(HttpRequest{"GET", "http://127.0.0.1:1/x", {}, {}});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().armCode(), "InsecureEndpoint");
}

TEST(HttpsTransportTest, ConnectionRefusedIsUnavailable) {
  // A loopback port nobody listens on: bind, read the port, close.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int port = ntohs(addr.sin_port);
  ::close(fd);

  auto transport = makeHttpsTransport({});
  ASSERT_TRUE(transport.ok());
  auto res = (*transport)->send(
      HttpRequest{"GET", "https://127.0.0.1:" + std::to_string(port) + "/x", {}, {}});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(res.status().message().find("is privlinkd running"), std::string::npos);
}

TEST(HttpsTransportTest, MalformedUrl) {
  auto transport = makeHttpsTransport({});
  ASSERT_TRUE(transport.ok());
  EXPECT_EQ((*transport)->send(HttpRequest{"GET", "nonsense", {}, {}}).status().armCode(),
            "InvalidUrl");
}

}  // namespace
}  // namespace privlink::client
