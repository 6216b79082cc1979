// SPDX-License-Identifier: Apache-2.0
#include "pinning/toml_reader.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace dotpin {

std::string TomlReader::relative(const std::string& path) const {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(source_).parent_path() / path).lexically_normal().string();
}

std::optional<toml::table> parse_toml(std::string_view text, TomlReader& r) {
  try {
    return toml::parse(text, r.source());
  } catch (const toml::parse_error& e) {
    r.error(e.source(), std::string(e.description()));
    return std::nullopt;
  }
}

std::optional<std::string> read_config_file(const std::string& path, TomlReader& r) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    r.error(toml::source_region{}, "cannot read the file");
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace dotpin
