// SPDX-License-Identifier: Apache-2.0
#include "common/dns_wire.h"

#include <arpa/inet.h>

#include <array>
#include <cstdio>

#include "common/ascii_fold.h"
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
  for (const auto& t : kTypes)
    if (ascii_iequal(t.name, text)) return t.type;
  if (text.size() > 4 && ascii_iequal(text.substr(0, 4), "TYPE")) {
    unsigned v = 0;
    for (std::size_t i = 4; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + static_cast<unsigned>(text[i] - '0');
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
    // RFC 8467: pad the whole message to a multiple of the block, the padding option included.
    const std::size_t base = q.size() + kOptRecordLen + 4;  // the OPT record and the option header
    const std::size_t pad = o.pad_block > 0 ? (o.pad_block - base % o.pad_block) % o.pad_block : 0;
    const std::size_t at = q.size();
    q.resize(at + kOptRecordLen);
    write_opt(q.data() + at, o.udp_size, 0, o.dnssec_ok, static_cast<std::uint16_t>(o.pad_block > 0 ? 4 + pad : 0));
    if (o.pad_block > 0) {
      put16(q, kOptionPadding);
      put16(q, static_cast<std::uint16_t>(pad));
      q.insert(q.end(), pad, 0);
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
        const bool options_ok = for_each_option(msg.subspan(start, len), [&edns](std::uint16_t code, std::span<const std::uint8_t> data) {
          if (code == kOptionPadding) {
            edns += ";; PADDING: " + std::to_string(data.size()) + " B\n";
          } else if (code == kOptionEde && data.size() >= 2) {
            // RFC 8914: info code, then UTF-8 text (shown with non-printables escaped).
            edns += ";; EDE: " + std::to_string(load_be16(data.data())) + " (";
            for (const std::uint8_t b : data.subspan(2)) {
              const char c = static_cast<char>(b);
              edns += (c >= 0x20 && c < 0x7f) ? std::string(1, c) : "\\" + std::to_string(b);
            }
            edns += ")\n";
          } else {
            edns += ";; OPTION " + std::to_string(code) + ": " + std::to_string(data.size()) + " B\n";
          }
          return true;
        });
        if (!options_ok) return fail("malformed EDNS option");
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
