// SPDX-License-Identifier: Apache-2.0
#include "pinning/pin_file_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pinning/spki_pin.h"

namespace dotpin {
namespace {

/// A TOML basic string. Names, labels and addresses are restricted by the parser to characters
/// that need no escape; quotes and backslashes are escaped anyway so the writer is safe alone.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

std::string render_pin_file(const PinTable& table, std::string_view header) {
  std::string out;
  std::size_t start = 0;
  while (start <= header.size() && !header.empty()) {
    const std::size_t end = header.find('\n', start);
    const std::string_view line = header.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    out += "# ";
    out += line;
    out += '\n';
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  out += "version = 1\n";
  for (const UpstreamPins& up : table.upstreams) {
    out += "\n[[upstream]]\nname = " + quoted(up.name) + "\naddress = " + quoted(up.address.to_string()) + "\n";
    if (!up.auth_name.empty()) out += "auth_name = " + quoted(up.auth_name) + "\n";
    if (up.mode != PinMode::kEnforce) out += "mode = " + quoted(to_string(up.mode)) + "\n";
    if (up.pins_from != PinsFrom::kFile) out += "pins_from = " + quoted(to_string(up.pins_from)) + "\n";
    if (up.pins_from == PinsFrom::kTofu) {
      if (up.learn != TofuLearn::kLeaf) out += "learn = " + quoted(to_string(up.learn)) + "\n";
      if (up.tofu_without_ca) out += "tofu_without_ca = true\n";
      if (!up.learn_from.empty()) {
        out += "learn_from = [";
        for (std::size_t i = 0; i < up.learn_from.size(); ++i)
          out += (i ? ", " : "") + quoted(up.learn_from[i].to_string());
        out += "]\n";
      }
    }
    if (up.pins_from == PinsFrom::kDane && up.tlsa_port != 853) out += "tlsa_port = " + std::to_string(up.tlsa_port) + "\n";
    for (const Pin& p : up.pins) {
      // Only the operator's pins belong in the operator's file; learned and DANE pins live elsewhere.
      if (p.origin != PinOrigin::kFile) continue;
      out += "\n[[upstream.pin]]\n";
      if (!p.label.empty()) out += "label = " + quoted(p.label) + "\n";
      out += "sha256 = " + quoted(pin_base64(p.digest)) + "\n";
      if (p.not_before) out += "not_before = " + format_utc(*p.not_before) + "\n";
      if (p.not_after) out += "not_after = " + format_utc(*p.not_after) + "\n";
    }
  }
  return out;
}

Status replace_file_atomically(const std::string& path, std::string_view text) {
  mode_t mode = 0600;
  struct stat old {};
  const bool had_old = ::stat(path.c_str(), &old) == 0;
  if (had_old) mode = old.st_mode & 07777;
  // A fresh name that nobody can have prepared: mkstemp opens with O_EXCL (so a symlink or file
  // planted there is never followed or truncated) and mode 0600 until the fchmod below.
  std::string tmp_name = path + ".tmp.XXXXXX";
  const int fd = ::mkostemp(tmp_name.data(), O_CLOEXEC);
  const std::string tmp = tmp_name;
  if (fd < 0) return fail(errno_text("cannot create " + tmp));
  ::fchmod(fd, mode);  // O_CREAT's mode is masked by the umask; the old file's mode is what we want
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = errno_text("cannot write " + tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(why);
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const std::string why = errno_text("cannot fsync " + tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return fail(why);
  }
  ::close(fd);
  if (had_old) {
    const std::string prev = path + ".prev";
    ::unlink(prev.c_str());
    (void)::link(path.c_str(), prev.c_str());  // best effort: a keepsake, not part of the guarantee
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text("cannot rename " + tmp + " to " + path);
    ::unlink(tmp.c_str());
    return fail(why);
  }
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);  // the rename itself is durable only once the directory is
    ::close(dfd);
  }
  return ok_status();
}

}  // namespace dotpin
