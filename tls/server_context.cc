// SPDX-License-Identifier: Apache-2.0
#include "tls/server_context.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <algorithm>
#include <fstream>

#include "pinning/pem.h"
#include "tls/wolfssl_init.h"

namespace dotpin::tls {
namespace {

bool readable(const std::string& path) { return std::ifstream(path).good(); }

// wolfSSL accepts a "chain" file with no certificate in it (and then a key with nothing to
// match): the file must hold certificates, and only certificates, the first one well-formed.
Status check_chain_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) return Error{text.error()};
  auto objects = read_key_objects(*text, path);
  if (!objects) return Error{objects.error()};
  if (objects->empty()) return fail(path, ": not a PEM certificate chain wolfSSL can load (no certificate)");
  for (const auto& o : *objects)
    if (o.kind != KeyObject::Kind::kCertificate) return fail(path, ": holds a public key, not only certificates");
  if (!view_certificate(objects->front().der)) return fail(path, ": its first certificate is not well-formed DER");
  return ok_status();
}

// One handshake over memory with our own strict client (no chain validation): the client checks
// the server's CertificateVerify against the leaf's key, so a key of another certificate fails
// here, at load, instead of failing every client. (wolfSSL_CTX_check_private_key, in Debian's
// generic build, accepts a P-256 key of another certificate; the AES-NI build's SP code does not.)
Status self_test(WOLFSSL_CTX* server_ctx, const std::string& key_file, const std::string& cert_file) {
  auto client_ctx = make_client_ctx("");
  if (!client_ctx) return Error{client_ctx.error()};
  try {
    MemoryTls client(client_ctx->get()), server(server_ctx);
    int cr = 0, sr = 0;
    for (int round = 0; round < 8; ++round) {
      cr = wolfSSL_connect(client.ssl());
      server.inbound().append(client.outbound().data());
      client.outbound().clear();
      sr = wolfSSL_accept(server.ssl());
      client.inbound().append(server.outbound().data());
      server.outbound().clear();
      if (cr == WOLFSSL_SUCCESS && sr == WOLFSSL_SUCCESS) return ok_status();
      if (client.state_after(cr) == IoState::kError || server.state_after(sr) == IoState::kError) break;
    }
  } catch (const std::exception& e) {
    return fail("DoT server self-test: ", e.what());
  }
  return fail(key_file, ": does not belong to the certificate in ", cert_file, " (a TLS handshake with it fails)");
}

}  // namespace

Result<ServerContext> make_server_context(const ServerPolicy& policy) {
  ensure_wolfssl_initialised();
  if (policy.certificate_file.empty() || policy.key_file.empty()) return fail("a DoT server needs a certificate and a key");
  if (!readable(policy.certificate_file)) return fail(policy.certificate_file, ": cannot be read");
  if (!readable(policy.key_file)) return fail(policy.key_file, ": cannot be read");
  if (Status st = check_chain_file(policy.certificate_file); !st) return Error{st.error()};
  ServerContext c;
  c.floor_ = policy.min_version;
  c.ctx_.reset(wolfSSL_CTX_new(wolfSSLv23_server_method()));
  if (!c.ctx_) return fail("wolfSSL_CTX_new failed");
  WOLFSSL_CTX* ctx = c.ctx_.get();
  if (auto st = apply_client_policy(ctx, policy.min_version); !st) return Error{st.error()};
  if (wolfSSL_CTX_use_certificate_chain_file(ctx, policy.certificate_file.c_str()) != WOLFSSL_SUCCESS)
    return fail(policy.certificate_file, ": not a PEM certificate chain wolfSSL can load");
  if (wolfSSL_CTX_use_PrivateKey_file(ctx, policy.key_file.c_str(), WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS)
    return fail(policy.key_file, ": not a PEM private key wolfSSL can load");
  if (wolfSSL_CTX_check_private_key(ctx) != WOLFSSL_SUCCESS)
    return fail(policy.key_file, ": does not belong to the certificate in ", policy.certificate_file);
  // Clients are not asked for certificates; resumption only by ticket, never from a session cache.
  wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, nullptr);
  wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
  if (Status st = self_test(ctx, policy.key_file, policy.certificate_file); !st) return Error{st.error()};
  try {
    c.tickets_ = std::make_unique<TicketKeys>(policy.ticket_rotation);
  } catch (const std::exception& e) {
    return fail("session tickets: ", e.what());
  }
  // A ticket opens for at most two rotation intervals (ticket_keys.h); RFC 8446 caps the hint at 7 days.
  const auto lifetime = std::min<long long>(2 * policy.ticket_rotation.count(), 604800);
  if (wolfSSL_CTX_set_TicketEncCb(ctx, &TicketKeys::callback) != WOLFSSL_SUCCESS ||
      wolfSSL_CTX_set_TicketEncCtx(ctx, c.tickets_.get()) != WOLFSSL_SUCCESS ||
      wolfSSL_CTX_set_TicketHint(ctx, static_cast<int>(lifetime)) != WOLFSSL_SUCCESS)
    return fail("cannot set up session tickets");
  wolfSSL_CTX_set_timeout(ctx, static_cast<unsigned>(lifetime));
  return c;
}

bool prepare_server_session(WOLFSSL* ssl) noexcept {
  // The server's list: "dot" is selected when the client offers it; a client offering only
  // something else, or nothing, continues without ALPN (RFC 7858 does not require it).
  return offer_dot_alpn(ssl);
}

std::string_view server_parameters_problem(WOLFSSL* ssl, TlsFloor floor) noexcept {
  const char* version = wolfSSL_get_version(ssl);
  if (!version || !version_allowed(version, floor)) return "TLS version not allowed";
  const char* suite = wolfSSL_get_cipher_name(ssl);
  if (!suite || !suite_allowed(suite, floor)) return "cipher suite not allowed";
  // TLS 1.3 negotiates only our groups; a TLS 1.2 server in wolfSSL picks any curve the client
  // lists (brainpool, secp256k1, P-521). A resumed TLS 1.2 session has no key exchange of its own.
  if (!wolfSSL_session_reused(ssl)) {
    const char* group = wolfSSL_get_curve_name(ssl);
    if (!group || !group_allowed(group)) return "key exchange group not offered";
  }
  return {};
}

}  // namespace dotpin::tls
