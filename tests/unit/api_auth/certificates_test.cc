#include "api/certificates.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>

namespace privlink::api {
namespace {

const PemCertificate& ca() {
  static PemCertificate c = createCertificateAuthority("test CA", 30).value();
  return c;
}

X509* parse(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

TEST(Certificates, CaIsACertificateAuthority) {
  X509* cert = parse(ca().certificatePem);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_ca(cert), 1);
  EXPECT_EQ(X509_get_extension_flags(cert) & EXFLAG_SS, static_cast<uint32_t>(EXFLAG_SS));
  X509_free(cert);
  EXPECT_TRUE(keyMatchesCertificate(ca().certificatePem, ca().privateKeyPem));
}

TEST(Certificates, ServerCertificateChainsToCaForLocalhostAndLoopback) {
  auto server = issueServerCertificate(ca(), ServerCertificateRequest{});
  ASSERT_TRUE(server.ok()) << server.status().toString();
  EXPECT_TRUE(
      verifyServerCertificate(ca().certificatePem, server->certificatePem, "localhost").ok());
  EXPECT_TRUE(
      verifyServerCertificate(ca().certificatePem, server->certificatePem, "127.0.0.1").ok());
  EXPECT_TRUE(keyMatchesCertificate(server->certificatePem, server->privateKeyPem));
  EXPECT_FALSE(keyMatchesCertificate(server->certificatePem, ca().privateKeyPem));

  X509* cert = parse(server->certificatePem);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_ca(cert), 0);
  EXPECT_TRUE(X509_get_extended_key_usage(cert) & XKU_SSL_SERVER);
  X509_free(cert);
}

TEST(Certificates, ServerCertificateDoesNotNameOtherHosts) {
  auto server = issueServerCertificate(ca(), ServerCertificateRequest{}).value();
  Status other = verifyServerCertificate(ca().certificatePem, server.certificatePem, "example.com");
  EXPECT_FALSE(other.ok());
  EXPECT_NE(other.message().find("does not verify"), std::string::npos);
  EXPECT_FALSE(
      verifyServerCertificate(ca().certificatePem, server.certificatePem, "10.0.0.1").ok());
}

TEST(Certificates, ServerCertificateDoesNotVerifyAgainstAnotherCa) {
  auto otherCa = createCertificateAuthority("other CA", 30).value();
  auto server = issueServerCertificate(otherCa, ServerCertificateRequest{}).value();
  EXPECT_FALSE(
      verifyServerCertificate(ca().certificatePem, server.certificatePem, "localhost").ok());
  EXPECT_TRUE(verifyServerCertificate(otherCa.certificatePem, server.certificatePem, "").ok());
}

TEST(Certificates, ValidityAndFingerprint) {
  ServerCertificateRequest request;
  request.validDays = 10;
  auto server = issueServerCertificate(ca(), request).value();
  int64_t notAfter = certificateNotAfter(server.certificatePem).value();
  int64_t now = time(nullptr);
  EXPECT_GT(notAfter, now + 9 * 86400);
  EXPECT_LT(notAfter, now + 11 * 86400);
  auto sha = certificateSha256(server.certificatePem);
  ASSERT_TRUE(sha.ok());
  EXPECT_EQ(sha->size(), 64u);
  EXPECT_NE(*sha, certificateSha256(ca().certificatePem).value());
}

TEST(Certificates, GarbageIsAnError) {
  EXPECT_FALSE(certificateNotAfter("garbage").ok());
  EXPECT_FALSE(verifyServerCertificate("garbage", "garbage", "").ok());
  EXPECT_FALSE(issueServerCertificate(PemCertificate{"x", "y"}, {}).ok());
}

}  // namespace
}  // namespace privlink::api
