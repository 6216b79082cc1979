// SPDX-License-Identifier: Apache-2.0
#include "control/control_server.h"

#include "control/command.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace dotpin::ctl {

struct ControlServer::Client {
  int fd = -1;
  std::string in, out;
  bool closing = false;  // close once the output is written
  std::chrono::steady_clock::time_point last{};
};

namespace {

Result<sockaddr_un> address_of(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.sun_path) return fail("control socket path '", path, "' is empty or too long");
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

Result<std::unique_ptr<ControlServer>> ControlServer::open(Options options) {
  auto addr = address_of(options.path);
  if (!addr) return Error{addr.error()};
  std::unique_ptr<ControlServer> s(new ControlServer(options));
  const std::filesystem::path dir = std::filesystem::path(options.path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail("cannot create ", dir.string(), ": ", ec.message());
    ::chmod(dir.c_str(), 0750);
  }
  // A socket file left by a dead daemon is replaced; a live daemon's is not touched.
  if (std::filesystem::exists(options.path, ec)) {
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool live = ::connect(probe, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) == 0;
    ::close(probe);
    if (live) return fail("another daemon serves ", options.path);
    ::unlink(options.path.c_str());
  }
  s->listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s->listener_ < 0) return fail("socket: ", errno_text());
  const mode_t old = ::umask(0177);  // created 0600: never a window where it is wider
  const int rc = ::bind(s->listener_, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr);
  ::umask(old);
  if (rc != 0) return fail("cannot bind ", options.path, ": ", errno_text());
  if (!options.group.empty()) {
    const group* g = ::getgrnam(options.group.c_str());
    if (g == nullptr) return fail("unknown group '", options.group, "' for the control socket");
    if (::chown(options.path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0 || ::chmod(options.path.c_str(), 0660) != 0)
      return fail("cannot give ", options.path, " to group ", options.group, ": ", errno_text());
  }
  if (::listen(s->listener_, 16) != 0) return fail("listen: ", errno_text());
  if (::pipe2(s->wake_, O_CLOEXEC | O_NONBLOCK) != 0) return fail("pipe: ", errno_text());
  return s;
}

ControlServer::~ControlServer() {
  stop();
  for (const int fd : {listener_, wake_[0], wake_[1]})
    if (fd >= 0) ::close(fd);
}

void ControlServer::handle(std::string command, Handler handler) { handlers_[std::move(command)] = std::move(handler); }

void ControlServer::start() { thread_ = std::thread([this] { loop(); }); }

void ControlServer::stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  const char b = 0;
  (void)!::write(wake_[1], &b, 1);
  thread_.join();
  ::unlink(options_.path.c_str());
}

Status check_request(const Command& c, const Request& r) {
  const auto usage = [&c] { return "usage: " + usage_line(c); };
  if (r.args.size() < c.min_args || r.args.size() > c.max_args) return fail(usage());
  for (const auto& option : r.options) {
    const std::string& name = option.first;  // not a structured binding: lambdas capture it (clang)
    const std::vector<std::string>& values = option.second;
    const auto spec = std::ranges::find_if(c.options, [&](const OptionSpec& o) { return o.name == name; });
    if (spec == c.options.end() || name == "socket") return fail("unknown option '--", name, "'; ", usage());
    if (values.size() > 1 && !spec->repeatable) return fail("--", name, " given twice; ", usage());
    for (const auto& v : values) {
      if (spec->value_name.empty() && !v.empty()) return fail("--", name, " takes no value; ", usage());
      if (!spec->value_name.empty() && v.empty()) return fail("--", name, " needs a value; ", usage());
    }
  }
  return ok_status();
}

std::vector<std::string> ControlServer::commands() const {
  std::vector<std::string> names;
  for (const auto& [name, _] : handlers_) names.push_back(name);
  return names;
}

std::string ControlServer::dispatch(std::string_view line) {
  auto req = decode_request(line);
  if (!req) return encode_error(req.error());
  const auto h = handlers_.find(req->command);
  if (h == handlers_.end()) {
    std::string known;
    for (const auto& [name, _] : handlers_) known += (known.empty() ? "" : ", ") + name;
    return encode_error("unknown command '" + req->command + "' (dotpind knows: " + known + ")");
  }
  // The same table as dotpinctl's: a request that the CLI would refuse is refused here too (any
  // client can write to the socket, not only dotpinctl).
  if (const Command* c = find_command(req->command))
    if (auto checked = check_request(*c, *req); !checked) return encode_error(checked.error());
  try {
    auto result = h->second(*req);
    return result ? encode_ok(*result) : encode_error(result.error());
  } catch (const std::exception& e) {  // the control plane may throw; the reply says so
    return encode_error(std::string("internal error: ") + e.what());
  }
}

void ControlServer::loop() {
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<pollfd> fds;
  char buf[16384];
  while (!stop_) {
    fds.clear();
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({listener_, POLLIN, 0});
    for (const auto& c : clients)
      fds.push_back({c->fd, static_cast<short>((c->closing ? 0 : POLLIN) | (c->out.empty() ? 0 : POLLOUT)), 0});
    if (::poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR) break;
    const auto now = std::chrono::steady_clock::now();
    if (fds[1].revents & POLLIN) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd >= 0) {
        if (clients.size() >= options_.max_clients) {
          const std::string busy = encode_error("too many control clients") + "\n";
          (void)!::write(fd, busy.data(), busy.size());
          ::close(fd);
        } else {
          auto c = std::make_unique<Client>();
          c->fd = fd;
          c->last = now;
          clients.push_back(std::move(c));
        }
      }
    }
    for (std::size_t i = 0; i < clients.size(); ++i) {
      Client& c = *clients[i];
      const short ev = i + 2 < fds.size() && fds[i + 2].fd == c.fd ? fds[i + 2].revents : 0;
      bool drop = (ev & (POLLERR | POLLNVAL)) != 0;
      if (!drop && (ev & (POLLIN | POLLHUP)) && !c.closing) {
        const ssize_t n = ::read(c.fd, buf, sizeof buf);
        if (n > 0) {
          c.in.append(buf, static_cast<std::size_t>(n));
          c.last = now;
          std::size_t nl;
          while (!c.closing && (nl = c.in.find('\n')) != std::string::npos) {
            const std::string line = c.in.substr(0, nl);
            c.in.erase(0, nl + 1);
            c.out += dispatch(line) + "\n";
          }
          if (c.in.size() > kMaxLine) {  // no newline within the limit: answer and hang up
            c.out += encode_error("request longer than " + std::to_string(kMaxLine) + " bytes") + "\n";
            c.in.clear();
            c.closing = true;
          }
        } else if (n == 0) {
          c.closing = true;  // peer finished sending; write what is left, then close
        } else if (errno != EAGAIN && errno != EINTR) {
          drop = true;
        }
      }
      if (!drop && !c.out.empty()) {
        const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n > 0) c.out.erase(0, static_cast<std::size_t>(n));
        else if (n < 0 && errno != EAGAIN && errno != EINTR) drop = true;
      }
      if (c.out.size() > options_.max_output) drop = true;  // it does not read its replies
      if (now - c.last > options_.idle_timeout) drop = true;
      if (c.closing && c.out.empty()) drop = true;
      if (drop) {
        ::close(c.fd);
        clients.erase(clients.begin() + static_cast<std::ptrdiff_t>(i));
        fds.erase(fds.begin() + static_cast<std::ptrdiff_t>(i + 2));
        --i;
      }
    }
  }
  for (const auto& c : clients) ::close(c->fd);
}

Result<nlohmann::json> call(const std::string& path, const Request& request, std::chrono::milliseconds timeout) {
  auto addr = address_of(path);
  if (!addr) return Error{addr.error()};
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("socket: ", errno_text());
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0)
    return fail("cannot connect to dotpind at ", path, ": ", errno_text(),
                errno == ENOENT || errno == ECONNREFUSED ? " (is dotpind running? --socket PATH)" : "");
  const std::string line = encode_request(request) + "\n";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto wait = [&](short events) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, events, 0};
    return left.count() > 0 && ::poll(&p, 1, static_cast<int>(left.count())) > 0;
  };
  std::size_t sent = 0;
  while (sent < line.size()) {
    if (!wait(POLLOUT)) return fail("timed out sending to dotpind");
    const ssize_t n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return fail("send to dotpind: ", errno_text());
    sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buf[16384];
  while (reply.find('\n') == std::string::npos) {
    if (!wait(POLLIN)) return fail("timed out waiting for dotpind's reply");
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return fail("dotpind closed the connection without a reply");
    reply.append(buf, static_cast<std::size_t>(n));
    if (reply.size() > 64u << 20) return fail("reply from dotpind too large");
  }
  return decode_reply(std::string_view(reply).substr(0, reply.find('\n')));
}

}  // namespace dotpin::ctl
