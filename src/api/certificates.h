#pragma once
// Certificates for privlinkd's TLS endpoint, made with OpenSSL's APIs (never the openssl tool).
//
// privlinkd's state directory holds a private CA (EC P-256, CA:TRUE, keyCertSign) and a server
// certificate it signs (EC P-256, SAN DNS:localhost + IP:127.0.0.1, EKU serverAuth). Clients
// trust the CA (REQUESTS_CA_BUNDLE / NODE_EXTRA_CA_CERTS / curl --cacert); the server certificate
// can be re-issued without clients noticing.
//
// All functions take and return PEM text; errors are Internal statuses carrying OpenSSL's reason.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace privlink::api {

struct PemCertificate {
  std::string certificatePem;
  std::string privateKeyPem;  // PKCS#8, unencrypted
};

// A self-signed CA certificate valid for `validDays` (from one hour ago, for clock skew).
Result<PemCertificate> createCertificateAuthority(std::string_view commonName, int validDays);

struct ServerCertificateRequest {
  std::string commonName = "localhost";
  std::vector<std::string> dnsNames = {"localhost"};
  std::vector<std::string> ipAddresses = {"127.0.0.1"};
  int validDays = 825;
};
// A TLS server certificate signed by `ca`.
Result<PemCertificate> issueServerCertificate(const PemCertificate& ca,
                                              const ServerCertificateRequest& request);

// Verifies that `leafPem` chains to `caPem`, is valid now, fits TLS server use, and (if `host` is
// not empty) names `host` (a DNS name or an IP address). The error says which check failed.
Status verifyServerCertificate(std::string_view caPem, std::string_view leafPem,
                               std::string_view host);

// True when `privateKeyPem` is the key of `certificatePem`.
bool keyMatchesCertificate(std::string_view certificatePem, std::string_view privateKeyPem);

// notAfter as seconds since the epoch.
Result<int64_t> certificateNotAfter(std::string_view certificatePem);

// SHA-256 of the DER certificate, lower-case hex (for logs and `privlink` output).
Result<std::string> certificateSha256(std::string_view certificatePem);

}  // namespace privlink::api
