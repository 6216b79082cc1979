// SPDX-License-Identifier: Apache-2.0
#include "tls/chain_fetch.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>

#include <wolfssl/error-ssl.h>

#include "tls/wolfssl_init.h"

namespace dotpin::tls {
namespace {

using Clock = std::chrono::steady_clock;

struct CtxFree {
  void operator()(WOLFSSL_CTX* c) const { wolfSSL_CTX_free(c); }
};
struct SslFree {
  void operator()(WOLFSSL* s) const { wolfSSL_free(s); }
};
struct AddrFree {
  void operator()(addrinfo* a) const { freeaddrinfo(a); }
};

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

std::string wolf_error(int code) {
  char buf[WOLFSSL_MAX_ERROR_SZ] = {};
  wolfSSL_ERR_error_string_n(static_cast<unsigned long>(code), buf, sizeof buf);
  return std::string(buf) + " (" + std::to_string(code) + ")";
}

// The verify callback records the first PKIX problem and lets the handshake finish, so the
// operator sees the chain of a server that would fail validation.
thread_local std::string* t_pkix_error = nullptr;

int record_verify_error(int preverify_ok, WOLFSSL_X509_STORE_CTX* store) {
  if (!preverify_ok && t_pkix_error && t_pkix_error->empty()) {
    const int err = wolfSSL_X509_STORE_CTX_get_error(store);
    *t_pkix_error = wolf_error(err);
  }
  return 1;
}

long remaining_ms(Clock::time_point deadline) {
  return std::max<long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
}

/// Connects with a deadline; returns the socket and the address string.
Result<std::pair<Fd, std::string>> connect_tcp(const Endpoint& server, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* raw = nullptr;
  const std::string port = std::to_string(server.port);
  if (const int rc = getaddrinfo(server.host.c_str(), port.c_str(), &hints, &raw); rc != 0)
    return fail(server.to_string(), ": cannot resolve: ", gai_strerror(rc));
  std::unique_ptr<addrinfo, AddrFree> list(raw);
  std::string last_error = "no address";
  for (addrinfo* ai = list.get(); ai; ai = ai->ai_next) {
    Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
    if (fd.get() < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    char host[NI_MAXHOST] = {}, serv[NI_MAXSERV] = {};
    getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV);
    const std::string peer = ai->ai_family == AF_INET6 ? "[" + std::string(host) + "]:" + serv
                                                       : std::string(host) + ":" + serv;
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last_error = peer + ": connect: " + std::strerror(errno);
      continue;
    }
    pollfd pfd{fd.get(), POLLOUT, 0};
    const int n = ::poll(&pfd, 1, static_cast<int>(remaining_ms(deadline)));
    if (n <= 0) {
      last_error = peer + ": connect: timed out";
      continue;
    }
    int soerr = 0;
    socklen_t len = sizeof soerr;
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &soerr, &len);
    if (soerr != 0) {
      last_error = peer + ": connect: " + std::strerror(soerr);
      continue;
    }
    // The socket stays non-blocking: the handshake below polls against the one deadline, so a
    // server that trickles a byte at a time cannot stretch it (a per-recv timeout would restart).
    return std::pair{std::move(fd), peer};
  }
  return fail(last_error);
}

}  // namespace

Result<FetchedChain> fetch_chain(const FetchOptions& options) {
  ensure_wolfssl_initialised();
  const auto deadline = Clock::now() + options.timeout;

  std::unique_ptr<WOLFSSL_CTX, CtxFree> ctx(wolfSSL_CTX_new(wolfSSLv23_client_method()));
  if (!ctx) return fail("wolfSSL_CTX_new failed");
  if (auto st = apply_client_policy(ctx.get(), options.min_version, options.suite_order); !st) return Error{st.error()};
  FetchedChain out;
  if (!options.ca_file.empty()) {
    if (wolfSSL_CTX_load_verify_locations(ctx.get(), options.ca_file.c_str(), nullptr) != WOLFSSL_SUCCESS)
      return fail(options.ca_file, ": cannot load CA certificates");
    wolfSSL_CTX_set_verify(ctx.get(), WOLFSSL_VERIFY_PEER, record_verify_error);
    out.pkix_checked = true;
  } else {
    wolfSSL_CTX_set_verify(ctx.get(), WOLFSSL_VERIFY_NONE, nullptr);
  }

  auto conn = connect_tcp(options.server, deadline);
  if (!conn) return Error{conn.error()};
  auto& [fd, peer] = *conn;
  out.peer = peer;

  std::unique_ptr<WOLFSSL, SslFree> ssl(wolfSSL_new(ctx.get()));
  if (!ssl) return fail("wolfSSL_new failed");
  if (!options.sni.empty()) {
    if (wolfSSL_UseSNI(ssl.get(), WOLFSSL_SNI_HOST_NAME, options.sni.data(),
                       static_cast<unsigned short>(options.sni.size())) != WOLFSSL_SUCCESS)
      return fail("cannot set SNI '", options.sni, "'");
    if (out.pkix_checked) wolfSSL_check_domain_name(ssl.get(), options.sni.c_str());
  }
  offer_dot_alpn(ssl.get());
  wolfSSL_set_fd(ssl.get(), fd.get());

  std::string pkix_error;
  t_pkix_error = &pkix_error;
  int rc = wolfSSL_connect(ssl.get());
  while (rc != WOLFSSL_SUCCESS) {
    const int want = wolfSSL_get_error(ssl.get(), rc);
    if (want != WOLFSSL_ERROR_WANT_READ && want != WOLFSSL_ERROR_WANT_WRITE) break;
    const long left = remaining_ms(deadline);
    if (left == 0) break;
    pollfd pfd{fd.get(), static_cast<short>(want == WOLFSSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0};
    if (::poll(&pfd, 1, static_cast<int>(left)) <= 0) break;
    rc = wolfSSL_connect(ssl.get());
  }
  t_pkix_error = nullptr;
  if (rc != WOLFSSL_SUCCESS) {
    const int err = wolfSSL_get_error(ssl.get(), rc);
    if (remaining_ms(deadline) == 0 || err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
      return fail(peer, ": TLS handshake timed out");
    WOLFSSL_ALERT_HISTORY alerts{};
    if (err == FATAL_ERROR && wolfSSL_get_alert_history(ssl.get(), &alerts) == WOLFSSL_SUCCESS &&
        (alerts.last_rx.code == 40 || alerts.last_rx.code == 70 || alerts.last_rx.code == 71))
      return fail(peer, ": TLS handshake failed: tls_parameters: the server accepts none of the versions and "
                        "suites dotpin offers (TLS 1.3; TLS 1.2 with ECDHE and AES-GCM or ChaCha20-Poly1305): ",
                  wolf_error(err));
    return fail(peer, ": TLS handshake failed: ", wolf_error(err));
  }
  out.protocol = wolfSSL_get_version(ssl.get());
  out.cipher = wolfSSL_get_cipher_name(ssl.get());
  out.pkix_ok = out.pkix_checked && pkix_error.empty();
  out.pkix_error = pkix_error;
  out.parameters_problem = std::string(negotiated_parameters_problem(ssl.get(), options.min_version));

  WOLFSSL_X509_CHAIN* chain = wolfSSL_get_peer_chain(ssl.get());
  const int count = chain ? wolfSSL_get_chain_count(chain) : 0;
  for (int i = 0; i < count; ++i) {
    const unsigned char* der = wolfSSL_get_chain_cert(chain, i);
    const int len = wolfSSL_get_chain_length(chain, i);
    if (der && len > 0) out.chain.emplace_back(der, der + len);
  }
  wolfSSL_shutdown(ssl.get());
  if (out.chain.empty()) return fail(peer, ": the server presented no certificate");
  return out;
}

}  // namespace dotpin::tls
