// SPDX-License-Identifier: Apache-2.0
#include "common/dns_wire.h"

#include <arpa/inet.h>

#include <array>
#include <cstdio>

#include "common/encoding.h"

namespace dotpin::dns {
namespace {

struct TypeName {
  std::uint16_t type;
  std::string_view name;
};
constexpr std::array<TypeName, 14> kTypes{{{kTypeA, "A"}, {kTypeNs, "NS"}, {kTypeCname, "CNAME"}, {kTypeSoa, "SOA"},
                                           {kTypePtr, "PTR"}, {kTypeMx, "MX"}, {kTypeTxt, "TXT"}, {kTypeAaaa, "AAAA"},
                                           {kTypeSrv, "SRV"}, {kTypeOpt, "OPT"}, {kTypeDs, "DS"},
                                           {kTypeDnskey, "DNSKEY"}, {kTypeTlsa, "TLSA"}, {kTypeAny, "ANY"}}};

void put16(std::vector<std::uint8_t>& v, std::uint16_t x) {
  v.push_back(static_cast<std::uint8_t>(x >> 8));
  v.push_back(static_cast<std::uint8_t>(x));
}

std::string class_to_string(std::uint16_t c) {
  if (c == kClassIn) return "IN";
  if (c == 3) return "CH";
  return "CLASS" + std::to_string(c);
}

}  // namespace

std::optional<std::uint16_t> type_from_string(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  for (const auto& t : kTypes)
    if (t.name == upper) return t.type;
  if (upper.starts_with("TYPE") && upper.size() > 4) {
    unsigned v = 0;
    for (std::size_t i = 4; i < upper.size(); ++i) {
      if (upper[i] < '0' || upper[i] > '9') return std::nullopt;
      v = v * 10 + static_cast<unsigned>(upper[i] - '0');
      if (v > 65535) return std::nullopt;
    }
    return static_cast<std::uint16_t>(v);
  }
  return std::nullopt;
}

std::string type_to_string(std::uint16_t type) {
  for (const auto& t : kTypes)
    if (t.type == type) return std::string(t.name);
  return "TYPE" + std::to_string(type);
}

std::string rcode_to_string(unsigned rcode) {
  static constexpr std::string_view kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
  if (rcode < std::size(kNames)) return std::string(kNames[rcode]);
  return "RCODE" + std::to_string(rcode);
}

bool WireReader::need(std::size_t n) noexcept {
  if (!ok_ || msg_.size() - pos_ < n) ok_ = false;
  return ok_;
}

std::uint8_t WireReader::u8() noexcept {
  if (!need(1)) return 0;
  return msg_[pos_++];
}

std::uint16_t WireReader::u16() noexcept {
  if (!need(2)) return 0;
  const std::uint16_t v = static_cast<std::uint16_t>(msg_[pos_] << 8 | msg_[pos_ + 1]);
  pos_ += 2;
  return v;
}

std::uint32_t WireReader::u32() noexcept {
  const std::uint32_t hi = u16();
  return hi << 16 | u16();
}

void WireReader::skip(std::size_t n) noexcept {
  if (need(n)) pos_ += n;
}

template <class OnLabel>
bool WireReader::walk_name(OnLabel&& on_label) noexcept {
  std::size_t p = pos_;
  std::size_t wire_len = 0;
  bool jumped = false;
  std::size_t limit = pos_;  // a pointer must go strictly before the last place it jumped from
  for (;;) {
    if (!ok_ || p >= msg_.size()) {
      ok_ = false;
      return false;
    }
    const std::uint8_t len = msg_[p];
    if ((len & 0xc0) == 0xc0) {
      if (p + 1 >= msg_.size()) {
        ok_ = false;
        return false;
      }
      const std::size_t target = std::size_t{len & 0x3fu} << 8 | msg_[p + 1];
      if (!jumped) pos_ = p + 2;
      if (target >= limit) {
        ok_ = false;  // forward or self reference: a loop or garbage
        return false;
      }
      limit = target;
      p = target;
      jumped = true;
      continue;
    }
    if (len & 0xc0) {  // 0x40/0x80: extended label types, not allowed
      ok_ = false;
      return false;
    }
    if (len == 0) {
      if (!jumped) pos_ = p + 1;
      return true;
    }
    wire_len += len + 1u;
    if (wire_len > 254 || p + 1 + len > msg_.size()) {
      ok_ = false;
      return false;
    }
    on_label(msg_.subspan(p + 1, len));
    p += 1 + len;
  }
}

std::string WireReader::name() {
  std::string out;
  const bool ok = walk_name([&out](std::span<const std::uint8_t> label) {
    for (const std::uint8_t c : label) {
      if (c == '.' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c > 0x20 && c < 0x7f) {
        out += static_cast<char>(c);
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\%03u", c);
        out += buf;
      }
    }
    out += '.';
  });
  if (!ok) return {};
  return out.empty() ? "." : out;
}

bool WireReader::skip_name() noexcept {
  return walk_name([](std::span<const std::uint8_t>) {});
}

std::optional<Header> read_header(std::span<const std::uint8_t> msg) noexcept {
  WireReader r(msg);
  Header h;
  h.id = r.u16();
  const std::uint16_t flags = r.u16();
  h.qr = flags & 0x8000;
  h.opcode = (flags >> 11) & 0xf;
  h.rcode = flags & 0xf;
  h.qdcount = r.u16();
  h.ancount = r.u16();
  h.nscount = r.u16();
  h.arcount = r.u16();
  if (!r.ok()) return std::nullopt;
  return h;
}

Result<std::vector<std::uint8_t>> build_query(std::string_view qname, std::uint16_t qtype, const QueryOptions& o) {
  std::vector<std::uint8_t> q;
  put16(q, o.id);
  put16(q, o.recursion_desired ? 0x0100 : 0);
  put16(q, 1);
  put16(q, 0);
  put16(q, 0);
  put16(q, o.edns ? 1 : 0);
  if (qname.ends_with('.')) qname.remove_suffix(1);
  std::size_t total = 1;
  while (!qname.empty()) {
    const auto dot = qname.find('.');
    const auto label = qname.substr(0, dot);
    if (label.empty() || label.size() > 63) return fail("'", std::string(qname), "': labels must be 1-63 octets");
    total += label.size() + 1;
    if (total > 255) return fail("name longer than 255 octets");
    q.push_back(static_cast<std::uint8_t>(label.size()));
    q.insert(q.end(), label.begin(), label.end());
    qname = dot == std::string_view::npos ? std::string_view{} : qname.substr(dot + 1);
  }
  q.push_back(0);
  put16(q, qtype);
  put16(q, kClassIn);
  if (o.edns) {
    q.push_back(0);  // root owner
    put16(q, kTypeOpt);
    put16(q, o.udp_size);
    put16(q, 0);  // ext-rcode, version
    put16(q, o.dnssec_ok ? 0x8000 : 0);
    if (o.pad_block > 0) {
      // RFC 8467: pad the whole message to a multiple of the block, the padding option included.
      const std::size_t base = q.size() + 2 + 4;  // RDLENGTH + option header
      const std::size_t pad = (o.pad_block - base % o.pad_block) % o.pad_block;
      put16(q, static_cast<std::uint16_t>(4 + pad));
      put16(q, kOptionPadding);
      put16(q, static_cast<std::uint16_t>(pad));
      q.insert(q.end(), pad, 0);
    } else {
      put16(q, 0);
    }
  }
  return q;
}

namespace {

/// Renders one RR's data; nullopt when it is malformed.
std::optional<std::string> rdata_text(std::span<const std::uint8_t> msg, std::size_t start, std::uint16_t type,
                                      std::uint16_t len) {
  WireReader r(msg, start);
  const std::size_t end = start + len;
  std::string out;
  char buf[INET6_ADDRSTRLEN];
  switch (type) {
    case kTypeA:
      if (len != 4) return std::nullopt;
      inet_ntop(AF_INET, msg.data() + start, buf, sizeof buf);
      return std::string(buf);
    case kTypeAaaa:
      if (len != 16) return std::nullopt;
      inet_ntop(AF_INET6, msg.data() + start, buf, sizeof buf);
      return std::string(buf);
    case kTypeNs:
    case kTypeCname:
    case kTypePtr:
      out = r.name();
      break;
    case kTypeMx:
      out = std::to_string(r.u16()) + " ";
      out += r.name();
      break;
    case kTypeSoa: {
      out = r.name() + " ";
      out += r.name();
      for (int i = 0; i < 5; ++i) out += " " + std::to_string(r.u32());
      break;
    }
    case kTypeTxt:
      while (r.ok() && r.pos() < end) {
        const std::uint8_t n = r.u8();
        if (!r.ok() || r.pos() + n > end) return std::nullopt;
        out += out.empty() ? "\"" : " \"";
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint8_t c = msg[r.pos() + i];
          if (c == '"' || c == '\\') out += '\\';
          if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
          } else {
            std::snprintf(buf, sizeof buf, "\\%03u", c);
            out += buf;
          }
        }
        out += '"';
        r.skip(n);
      }
      break;
    default:
      return "\\# " + std::to_string(len) + (len ? " " + hex_encode(msg.subspan(start, len)) : "");
  }
  if (!r.ok() || r.pos() != end) return std::nullopt;
  return out;
}

std::string pad_to(std::string s, std::size_t width) {
  if (s.size() < width) s.resize(width, ' ');
  return s;
}

}  // namespace

Result<std::string> format_message(std::span<const std::uint8_t> msg) {
  const auto h = read_header(msg);
  if (!h) return fail("message shorter than a DNS header (", std::to_string(msg.size()), " bytes)");
  WireReader r(msg, 12);
  const std::uint16_t flags = static_cast<std::uint16_t>(msg[2] << 8 | msg[3]);
  std::string out = ";; ->>HEADER<<- opcode: " + std::string(h->opcode == 0 ? "QUERY" : std::to_string(h->opcode)) +
                    "; status: " + rcode_to_string(h->rcode) + "; id: " + std::to_string(h->id) + "\n;; Flags:";
  static constexpr std::pair<std::uint16_t, const char*> kFlags[] = {
      {0x8000, "qr"}, {0x0400, "aa"}, {0x0200, "tc"}, {0x0100, "rd"}, {0x0080, "ra"}, {0x0020, "ad"}, {0x0010, "cd"}};
  for (const auto& [bit, name] : kFlags)
    if (flags & bit) out += std::string(" ") + name;
  out += "; QUERY: " + std::to_string(h->qdcount) + "; ANSWER: " + std::to_string(h->ancount) +
         "; AUTHORITY: " + std::to_string(h->nscount) + "; ADDITIONAL: " + std::to_string(h->arcount) + "\n";

  std::string question;
  for (unsigned i = 0; i < h->qdcount; ++i) {
    const std::string name = r.name();
    const std::uint16_t type = r.u16(), cls = r.u16();
    if (!r.ok()) return fail("malformed question section at offset ", std::to_string(r.pos()));
    question += ";; " + pad_to(name, 24) + "\t\t" + class_to_string(cls) + "\t" + type_to_string(type) + "\n";
  }
  std::string sections[3];
  std::string edns;
  const unsigned counts[3] = {h->ancount, h->nscount, h->arcount};
  for (int s = 0; s < 3; ++s) {
    for (unsigned i = 0; i < counts[s]; ++i) {
      const std::string name = r.name();
      const std::uint16_t type = r.u16(), cls = r.u16();
      const std::uint32_t ttl = r.u32();
      const std::uint16_t len = r.u16();
      const std::size_t start = r.pos();
      r.skip(len);
      if (!r.ok()) return fail("malformed record in section ", std::to_string(s + 1), " at offset ", std::to_string(start));
      if (type == kTypeOpt) {
        edns = ";; EDNS PSEUDOSECTION:\n;; Version: " + std::to_string((ttl >> 16) & 0xff) +
               "; flags:" + ((ttl & 0x8000) ? std::string(" do") : std::string("")) + "; UDP size: " +
               std::to_string(cls) + " B; ext-rcode: " + std::to_string(ttl >> 24) + "\n";
        WireReader o(msg, start);
        while (o.ok() && o.pos() + 4 <= start + len) {
          const std::uint16_t code = o.u16(), olen = o.u16();
          o.skip(olen);
          if (!o.ok() || o.pos() > start + len) return fail("malformed EDNS option");
          if (code == kOptionPadding) {
            edns += ";; PADDING: " + std::to_string(olen) + " B\n";
          } else if (code == kOptionEde && olen >= 2) {
            // RFC 8914: info code, then UTF-8 text (shown with non-printables escaped).
            const std::size_t at = o.pos() - olen;
            edns += ";; EDE: " + std::to_string(msg[at] << 8 | msg[at + 1]) + " (";
            for (std::size_t k = at + 2; k < o.pos(); ++k) {
              const char c = static_cast<char>(msg[k]);
              edns += (c >= 0x20 && c < 0x7f) ? std::string(1, c) : "\\" + std::to_string(msg[k]);
            }
            edns += ")\n";
          } else {
            edns += ";; OPTION " + std::to_string(code) + ": " + std::to_string(olen) + " B\n";
          }
        }
        continue;
      }
      const auto data = rdata_text(msg, start, type, len);
      if (!data) return fail("malformed ", type_to_string(type), " record data at offset ", std::to_string(start));
      sections[s] += pad_to(name, 24) + "\t" + std::to_string(ttl) + "\t" + class_to_string(cls) + "\t" +
                     type_to_string(type) + "\t" + *data + "\n";
    }
  }
  if (!edns.empty()) out += "\n" + edns;
  if (!question.empty()) out += "\n;; QUESTION SECTION:\n" + question;
  static constexpr const char* kTitles[] = {"ANSWER", "AUTHORITY", "ADDITIONAL"};
  for (int s = 0; s < 3; ++s)
    if (!sections[s].empty()) out += "\n;; " + std::string(kTitles[s]) + " SECTION:\n" + sections[s];
  return out;
}

}  // namespace dotpin::dns
