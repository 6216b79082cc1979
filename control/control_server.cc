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

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace dotpin::ctl {

struct ControlServer::Client {
  int fd = -1;
  std::string in, out;
  bool closing = false;   // close once the output is written
  bool answered = false;  // it has completed a request: from then on it may idle (idle_timeout)
  // The clocks of its deadlines. None is moved by bytes arriving: a client that sends a byte at a
  // time gets no more time than a silent one.
  Clock::time_point accepted{};  // request deadline of its first request
  Clock::time_point started{};   // first byte of a later request still incomplete (in non-empty)
  Clock::time_point flushed{};   // accepted, then its last reply written out: idle time counts from here
  Clock::time_point queued{};    // out became non-empty: the write deadline counts from here
};

/// A client's next deadline and the reason it is closed for when it passes.
struct ControlServer::Deadline {
  Clock::time_point at;
  Close why;
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

// More than a listen backlog of 16 (issue 19): a burst of connections waits in the kernel instead of
// being refused, and the server sorts them out as it accepts (the kernel caps it at somaxconn).
constexpr int kBacklog = SOMAXCONN;
// Connections accepted per turn of the loop (at most the number of slots): a burst cannot keep the
// clients already connected from being served, and a newcomer whose request is not there yet when
// it is accepted is read at the next turn before more newcomers can push it out.
constexpr std::size_t kAcceptBurst = 64;

using Clock = ControlServer::Clock;

/// Best effort, never blocking: a line for a client about to be closed (a person typing into the
/// socket by hand learns why). Clients that do not read lose nothing by it.
void tell(int fd, std::string_view message) {
  const std::string line = encode_error(message) + "\n";
  (void)!::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

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
  if (::listen(s->listener_, kBacklog) != 0) return fail("listen: ", errno_text());
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

ControlServer::Counters ControlServer::counters() const {
  const std::lock_guard lock(counters_mutex_);
  return counters_;
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

ControlServer::Deadline ControlServer::deadline_of(const Client& c) const {
  // A reply backing up: only the write deadline counts until it is taken (the bound on its size is
  // max_output, checked after every read).
  if (!c.out.empty()) return {c.queued + options_.write_timeout, Close::kWriteDeadline};
  if (!c.answered) return {c.accepted + options_.request_timeout, Close::kRequestDeadline};
  if (!c.in.empty()) return {c.started + options_.request_timeout, Close::kRequestDeadline};
  return {c.flushed + options_.idle_timeout, Close::kIdle};
}

void ControlServer::loop() {
  Clients clients;
  std::vector<pollfd> fds;
  while (!stop_) {
    fds.clear();
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({listener_, POLLIN, 0});
    // Wake for the first deadline (a closed client frees its slot when it is due, not up to a
    // second later), and at least once a second for the warn line.
    auto wake = Clock::now() + std::chrono::seconds(1);
    for (const auto& c : clients) {
      fds.push_back({c->fd, static_cast<short>((c->closing ? 0 : POLLIN) | (c->out.empty() ? 0 : POLLOUT)), 0});
      wake = std::min(wake, deadline_of(*c).at);
    }
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now());
    if (::poll(fds.data(), fds.size(), static_cast<int>(std::max<std::int64_t>(wait.count(), 0))) < 0 && errno != EINTR)
      break;
    const auto now = Clock::now();
    // The clients already connected first, then the newcomers: eviction below never meets a pollfd
    // that no longer matches its client.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < clients.size(); ++i) {
      const Close why = serve(*clients[i], fds[i + 2].revents, now);
      if (why == Close::kKeep) clients[kept++] = std::move(clients[i]);
      else close_client(*clients[i], why);
    }
    clients.resize(kept);
    if (fds[1].revents & POLLIN) accept_clients(clients, now);
    warn_if_due(now);
  }
  warn_if_due(Clock::now(), true);  // what the interval still held back
  for (const auto& c : clients) ::close(c->fd);
}

void ControlServer::accept_clients(Clients& clients, Clock::time_point now) {
  const std::size_t slots = std::max<std::size_t>(options_.max_clients, 1);
  for (std::size_t k = 0; k < std::min(kAcceptBurst, slots); ++k) {
    const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;  // EAGAIN: no more; EMFILE and the like: the next turn tries again
    {
      const std::lock_guard lock(counters_mutex_);
      ++counters_.accepted;
    }
    auto c = std::make_unique<Client>();
    c->fd = fd;
    c->accepted = c->flushed = now;
    // Served at once: dotpinctl writes its request as it connects, so it is usually here already
    // and the answer does not wait for the next turn (nor for whatever the other clients do).
    if (const Close why = serve(*c, POLLIN, now); why != Close::kKeep) {
      close_client(*c, why);
      continue;
    }
    clients.push_back(std::move(c));
    if (clients.size() <= slots) continue;
    // The newcomer took the reserve slot: free it again by closing the client that has waited
    // longest for its next request (since it connected, or since its last reply went out). Every
    // real client is young: it connects and asks at once, and is answered. Not "unanswered ones
    // first": a newcomer whose request is not there yet is unanswered too, and the next newcomer
    // would push it out. By age it goes only after every older client, which takes more
    // connections than one turn accepts. Clients whose reply backs up go last (they have asked;
    // the write deadline bounds them). Never the newcomer itself.
    const auto older = [](const Client& x, const Client& y) {
      if (x.out.empty() != y.out.empty()) return x.out.empty();
      return x.out.empty() ? x.flushed < y.flushed : x.queued < y.queued;
    };
    auto victim = clients.begin();
    for (auto it = clients.begin(); it + 1 != clients.end(); ++it)
      if (older(**it, **victim)) victim = it;
    close_client(**victim, Close::kEvicted);
    clients.erase(victim);
  }
}

ControlServer::Close ControlServer::serve(Client& c, short revents, Clock::time_point now) {
  if (revents & (POLLERR | POLLNVAL)) return Close::kError;
  if ((revents & (POLLIN | POLLHUP)) && !c.closing && !receive(c, now)) return Close::kError;
  if (!c.out.empty()) {
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n > 0) c.out.erase(0, static_cast<std::size_t>(n));
    else if (n < 0 && errno != EAGAIN && errno != EINTR) return Close::kError;
    if (c.out.empty()) c.flushed = now;
  }
  if (c.out.size() > options_.max_output) return Close::kUnreadOutput;  // it does not read its replies
  if (c.closing && c.out.empty()) return Close::kDone;
  if (const Deadline d = deadline_of(c); now >= d.at) return d.why;
  return Close::kKeep;
}

bool ControlServer::receive(Client& c, Clock::time_point now) {
  char buf[16384];
  const ssize_t n = ::read(c.fd, buf, sizeof buf);
  if (n == 0) c.closing = true;  // peer finished sending; write what is left, then close
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  if (n <= 0) return true;
  if (c.in.empty()) c.started = now;
  c.in.append(buf, static_cast<std::size_t>(n));
  std::size_t nl;
  while (!c.closing && (nl = c.in.find('\n')) != std::string::npos) {
    const std::string line = c.in.substr(0, nl);
    c.in.erase(0, nl + 1);
    c.answered = true;
    c.started = now;  // what is left over is the start of the next request
    if (c.out.empty()) c.queued = now;
    c.out += dispatch(line) + "\n";
  }
  if (c.in.size() > kMaxLine) {  // no newline within the limit: answer and hang up
    if (c.out.empty()) c.queued = now;
    c.out += encode_error("request longer than " + std::to_string(kMaxLine) + " bytes") + "\n";
    c.in.clear();
    c.closing = true;
  }
  return true;
}

void ControlServer::close_client(Client& c, Close why) {
  {
    // Counted before the close: whoever sees the hang-up also sees it counted.
    const std::lock_guard lock(counters_mutex_);
    switch (why) {
      case Close::kRequestDeadline: ++counters_.request_deadline; break;
      case Close::kWriteDeadline: ++counters_.write_deadline; break;
      case Close::kUnreadOutput: ++counters_.unread_output; break;
      case Close::kIdle: ++counters_.idle; break;
      case Close::kEvicted: ++counters_.evicted; break;
      default: break;
    }
  }
  if (why == Close::kRequestDeadline)
    tell(c.fd, "no complete request within " + ms(options_.request_timeout) + "; closing");
  else if (why == Close::kEvicted && c.out.empty())
    tell(c.fd, "control socket busy: closed to serve a newer client (" + std::to_string(options_.max_clients) +
                   " clients connected)");
  ::close(c.fd);
}

void ControlServer::warn_if_due(Clock::time_point now, bool stopping) {
  // Rate-limited: a flood of connections is one line per interval, with counts (never anything a
  // client sent). Idle closes are ordinary and not reported.
  if (!options_.warn) return;
  if (!stopping && last_warn_ != Clock::time_point{} && now - last_warn_ < options_.warn_interval) return;
  const Counters c = counters();
  const auto d = [](std::uint64_t a, std::uint64_t b) { return std::to_string(a - b); };
  if (c.request_deadline == warned_.request_deadline && c.write_deadline == warned_.write_deadline &&
      c.unread_output == warned_.unread_output && c.evicted == warned_.evicted)
    return;
  options_.warn("control socket: closed " + d(c.request_deadline, warned_.request_deadline) +
                " client(s) without a complete request within " + ms(options_.request_timeout) + ", " +
                d(c.write_deadline, warned_.write_deadline) + " not taking a reply within " +
                ms(options_.write_timeout) + ", " + d(c.unread_output, warned_.unread_output) +
                " with too much unread output; evicted " + d(c.evicted, warned_.evicted) +
                " to keep a slot free for newcomers (" + std::to_string(options_.max_clients) +
                " slots + 1 reserve), of " + d(c.accepted, warned_.accepted) + " accepted since the last such line");
  warned_ = c;
  last_warn_ = now;
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
