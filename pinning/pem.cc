// SPDX-License-Identifier: Apache-2.0
#include "pinning/pem.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "common/encoding.h"
#include "pinning/certificate.h"

namespace dotpin {
namespace {

constexpr std::string_view kBegin = "-----BEGIN ";
constexpr std::string_view kEnd = "-----END ";
constexpr std::string_view kDashes = "-----";

int line_of(std::string_view content, std::size_t pos) {
  int line = 1;
  for (std::size_t i = 0; i < pos && i < content.size(); ++i) line += content[i] == '\n';
  return line;
}

Result<std::vector<KeyObject>> read_pem(std::string_view content, const std::string& source) {
  std::vector<KeyObject> out;
  std::size_t pos = 0;
  int index = 0;
  while ((pos = content.find(kBegin, pos)) != std::string_view::npos) {
    ++index;
    const int line = line_of(content, pos);
    const std::string where = source + ":" + std::to_string(line);
    const std::size_t label_start = pos + kBegin.size();
    const std::size_t label_end = content.find(kDashes, label_start);
    const std::size_t eol = content.find('\n', label_start);
    if (label_end == std::string_view::npos || (eol != std::string_view::npos && label_end > eol))
      return fail(where, ": malformed PEM BEGIN line");
    const std::string label(content.substr(label_start, label_end - label_start));
    const std::string end_marker = std::string(kEnd) + label + std::string(kDashes);
    const std::size_t body_start = label_end + kDashes.size();
    const std::size_t body_end = content.find(end_marker, body_start);
    if (body_end == std::string_view::npos) return fail(where, ": PEM block '", label, "' has no END line");
    pos = body_end + end_marker.size();

    KeyObject obj;
    obj.index = index;
    obj.line = line;
    if (label == "CERTIFICATE" || label == "X509 CERTIFICATE" || label == "TRUSTED CERTIFICATE") {
      obj.kind = KeyObject::Kind::kCertificate;
    } else if (label == "PUBLIC KEY") {
      obj.kind = KeyObject::Kind::kPublicKey;
    } else {
      return fail(where, ": PEM block '", label,
                  "' is neither a certificate nor a public key; pins are taken from public keys "
                  "(for a private key: openssl pkey -in KEY -pubout)");
    }
    std::string b64;
    for (const char ch : content.substr(body_start, body_end - body_start)) {
      if (ch != '\n' && ch != '\r' && ch != ' ' && ch != '\t') b64 += ch;
    }
    auto der = base64_decode(b64);
    if (!der || der->empty()) return fail(where, ": PEM block '", label, "' has invalid base64");
    if (label == "TRUSTED CERTIFICATE") {
      // OpenSSL appends trust settings after the certificate: keep the first TLV only.
      std::size_t n = der->size();
      if (n >= 4 && (*der)[1] == 0x82) n = std::min(n, std::size_t{4} + ((*der)[2] << 8 | (*der)[3]));
      der->resize(n);
    }
    obj.der = std::move(*der);
    out.push_back(std::move(obj));
  }
  if (out.empty()) return fail(source, ": no PEM block found");
  return out;
}

}  // namespace

Result<std::vector<KeyObject>> read_key_objects(std::string_view content, const std::string& source) {
  if (content.find(kBegin) != std::string_view::npos) return read_pem(content, source);
  if (content.empty()) return fail(source, ": empty file");
  const DerBytes der(reinterpret_cast<const std::uint8_t*>(content.data()), content.size());
  KeyObject obj;
  obj.index = 1;
  if (find_spki(der)) {
    obj.kind = KeyObject::Kind::kCertificate;
  } else if (parse_spki(der)) {
    obj.kind = KeyObject::Kind::kPublicKey;
  } else {
    return fail(source, ": neither PEM nor a DER certificate or public key");
  }
  obj.der.assign(der.begin(), der.end());
  return std::vector<KeyObject>{std::move(obj)};
}

Result<std::string> read_file(const std::string& path) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(path, ": cannot open: ", std::strerror(errno));
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return fail(path, ": read error: ", std::strerror(errno));
  return data;
}

}  // namespace dotpin
