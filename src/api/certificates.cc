#include "api/certificates.h"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "api/openssl_util.h"

namespace privlink::api {
namespace {

Result<ossl::Pkey> newEcKey() {
  ossl::Pkey key(EVP_EC_gen("P-256"));
  if (!key) return Status::Internal("Cannot generate an EC P-256 key: " + ossl::lastError());
  return key;
}

Result<ossl::Cert> readCertificate(std::string_view pem) {
  auto bio = ossl::memoryBio(pem);
  ossl::Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Status::Internal("Cannot parse a PEM certificate: " + ossl::lastError());
  return cert;
}

Result<ossl::Pkey> readPrivateKey(std::string_view pem) {
  auto bio = ossl::memoryBio(pem);
  ossl::Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Status::Internal("Cannot parse a PEM private key: " + ossl::lastError());
  return key;
}

Status addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ossl::Extension ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Status::Internal("Cannot add certificate extension " + std::string(OBJ_nid2sn(nid)) +
                            "=" + value + ": " + ossl::lastError());
  }
  return Status::Ok();
}

// A certificate with a random serial, validity, subject CN and public key; not yet signed.
Result<ossl::Cert> newCertificate(std::string_view commonName, EVP_PKEY* key, int validDays) {
  ossl::Cert cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) {
    return Status::Internal("X509_new: " + ossl::lastError());
  }
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) {
    return Status::Internal("RAND_bytes: " + ossl::lastError());
  }
  serial[0] &= 0x7f;  // positive
  ossl::Bignum bn(BN_bin2bn(serial, sizeof(serial), nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()))) {
    return Status::Internal("serial number: " + ossl::lastError());
  }
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), validDays, 0, nullptr);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("privlink"), -1, -1, 0);
  std::string cn(commonName);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  if (X509_set_pubkey(cert.get(), key) != 1) {
    return Status::Internal("X509_set_pubkey: " + ossl::lastError());
  }
  return cert;
}

Result<PemCertificate> toPem(X509* cert, EVP_PKEY* key) {
  ossl::Bio certBio(BIO_new(BIO_s_mem()));
  ossl::Bio keyBio(BIO_new(BIO_s_mem()));
  if (!certBio || !keyBio || PEM_write_bio_X509(certBio.get(), cert) != 1 ||
      PEM_write_bio_PrivateKey(keyBio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Status::Internal("Cannot write PEM: " + ossl::lastError());
  }
  return PemCertificate{ossl::bioText(certBio.get()), ossl::bioText(keyBio.get())};
}

}  // namespace

Result<PemCertificate> createCertificateAuthority(std::string_view commonName, int validDays) {
  ASSIGN_OR_RETURN(ossl::Pkey key, newEcKey());
  ASSIGN_OR_RETURN(ossl::Cert cert, newCertificate(commonName, key.get(), validDays));
  X509* x = cert.get();
  if (X509_set_issuer_name(x, X509_get_subject_name(x)) != 1) {
    return Status::Internal("X509_set_issuer_name: " + ossl::lastError());
  }
  RETURN_IF_ERROR(addExtension(x, x, NID_basic_constraints, "critical,CA:TRUE"));
  RETURN_IF_ERROR(addExtension(x, x, NID_key_usage, "critical,keyCertSign,cRLSign"));
  RETURN_IF_ERROR(addExtension(x, x, NID_subject_key_identifier, "hash"));
  if (X509_sign(x, key.get(), EVP_sha256()) == 0) {
    return Status::Internal("Cannot sign the CA certificate: " + ossl::lastError());
  }
  return toPem(x, key.get());
}

Result<PemCertificate> issueServerCertificate(const PemCertificate& ca,
                                              const ServerCertificateRequest& request) {
  ASSIGN_OR_RETURN(ossl::Cert caCert, readCertificate(ca.certificatePem));
  ASSIGN_OR_RETURN(ossl::Pkey caKey, readPrivateKey(ca.privateKeyPem));
  ASSIGN_OR_RETURN(ossl::Pkey key, newEcKey());
  ASSIGN_OR_RETURN(ossl::Cert cert,
                   newCertificate(request.commonName, key.get(), request.validDays));
  X509* x = cert.get();
  if (X509_set_issuer_name(x, X509_get_subject_name(caCert.get())) != 1) {
    return Status::Internal("X509_set_issuer_name: " + ossl::lastError());
  }
  std::string san;
  for (const auto& dns : request.dnsNames) san += (san.empty() ? "" : ",") + ("DNS:" + dns);
  for (const auto& ip : request.ipAddresses) san += (san.empty() ? "" : ",") + ("IP:" + ip);
  RETURN_IF_ERROR(addExtension(x, caCert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  RETURN_IF_ERROR(addExtension(x, caCert.get(), NID_key_usage, "critical,digitalSignature"));
  RETURN_IF_ERROR(addExtension(x, caCert.get(), NID_ext_key_usage, "serverAuth"));
  if (!san.empty()) RETURN_IF_ERROR(addExtension(x, caCert.get(), NID_subject_alt_name, san));
  RETURN_IF_ERROR(addExtension(x, caCert.get(), NID_subject_key_identifier, "hash"));
  RETURN_IF_ERROR(addExtension(x, caCert.get(), NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(x, caKey.get(), EVP_sha256()) == 0) {
    return Status::Internal("Cannot sign the server certificate: " + ossl::lastError());
  }
  return toPem(x, key.get());
}

Status verifyServerCertificate(std::string_view caPem, std::string_view leafPem,
                               std::string_view host) {
  ASSIGN_OR_RETURN(ossl::Cert ca, readCertificate(caPem));
  ASSIGN_OR_RETURN(ossl::Cert leaf, readCertificate(leafPem));
  ossl::CertStore store(X509_STORE_new());
  ossl::CertStoreCtx ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr) != 1) {
    return Status::Internal("Cannot set up certificate verification: " + ossl::lastError());
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  std::string h(host);
  // A numeric address is checked against the IP SANs, anything else against the DNS names.
  if (!h.empty() && X509_VERIFY_PARAM_set1_ip_asc(param, h.c_str()) != 1) {
    ERR_clear_error();
    X509_VERIFY_PARAM_set1_host(param, h.c_str(), h.size());
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return Status::Internal("The server certificate does not verify against the CA: " +
                            std::string(X509_verify_cert_error_string(err)));
  }
  return Status::Ok();
}

bool keyMatchesCertificate(std::string_view certificatePem, std::string_view privateKeyPem) {
  auto cert = readCertificate(certificatePem);
  auto key = readPrivateKey(privateKeyPem);
  if (!cert.ok() || !key.ok()) return false;
  bool match = X509_check_private_key(cert->get(), key->get()) == 1;
  ERR_clear_error();
  return match;
}

Result<int64_t> certificateNotAfter(std::string_view certificatePem) {
  ASSIGN_OR_RETURN(ossl::Cert cert, readCertificate(certificatePem));
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) != 1) {
    return Status::Internal("Cannot read the certificate's notAfter: " + ossl::lastError());
  }
  return static_cast<int64_t>(timegm(&tm));
}

Result<std::string> certificateSha256(std::string_view certificatePem) {
  ASSIGN_OR_RETURN(ossl::Cert cert, readCertificate(certificatePem));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md, &len) != 1) {
    return Status::Internal("X509_digest: " + ossl::lastError());
  }
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

}  // namespace privlink::api
