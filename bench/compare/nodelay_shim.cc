// SPDX-License-Identifier: Apache-2.0
// LD_PRELOAD shim for benchmark peers: sets TCP_NODELAY on every socket a server accepts.
// unbound before 1.23 does not set it on TLS connections, so on a reused connection an answer can
// wait ~40 ms for the client's delayed ACK (Nagle), and a benchmark measures that instead of the
// server (docs/benchmarks.md). Used by bench/compare/compare.sh for the upstream; not part of dotpin.
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace {

void nodelay(int fd) {
  if (fd < 0) return;
  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) return;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on a Unix socket
}

}  // namespace

extern "C" int accept(int fd, sockaddr* addr, socklen_t* len) {
  using Fn = int (*)(int, sockaddr*, socklen_t*);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "accept"));
  const int c = real(fd, addr, len);
  nodelay(c);
  return c;
}

extern "C" int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  using Fn = int (*)(int, sockaddr*, socklen_t*, int);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "accept4"));
  const int c = real(fd, addr, len, flags);
  nodelay(c);
  return c;
}
