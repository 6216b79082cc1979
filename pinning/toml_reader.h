// SPDX-License-Identifier: Apache-2.0
/// @file toml_reader.h
/// @brief Reading one TOML file whose sections belong to different parts (dotpind's config: the
/// data plane's and the control plane's), with every problem reported as file:line:col. Each part
/// reads its sections through section(), which also records the keys it knows; check_unknown()
/// then reports every section and key no part claimed, so a typo is an error, never ignored.
#pragma once

#include <toml++/toml.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pinning/diagnostic.h"

namespace dotpin {

class TomlReader {
 public:
  explicit TomlReader(std::string source) : source_(std::move(source)) {}

  void error(const toml::source_region& where, std::string message) {
    errors_.push_back(Diagnostic{Severity::kError, source_, static_cast<int>(where.begin.line),
                                 static_cast<int>(where.begin.column), std::move(message), {}});
  }
  /// Every error so far, in file order.
  std::vector<Diagnostic> take() {
    std::ranges::stable_sort(errors_, [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
    return std::move(errors_);
  }
  [[nodiscard]] bool ok() const { return errors_.empty(); }
  [[nodiscard]] const std::string& source() const { return source_; }

  /// The sub-table @p name of @p root (nullptr if absent), recording @p keys as known in it.
  const toml::table* section(const toml::table& root, std::string_view name, std::initializer_list<std::string_view> keys) {
    auto& known = known_[std::string(name)];
    for (const auto k : keys) known.insert(std::string(k));
    const toml::node* n = root.get(name);
    if (n == nullptr) return nullptr;
    const toml::table* t = n->as_table();
    if (t == nullptr && !reported_.contains(std::string(name))) {
      reported_.insert(std::string(name));
      error(n->source(), "'" + std::string(name) + "' must be a table: write [" + std::string(name) + "]");
    }
    return t;
  }

  /// The tables of the array of tables @p name of @p root ([[name]] sections; empty if absent),
  /// each checked for keys outside @p keys here (check_unknown() does not look into arrays).
  std::vector<const toml::table*> tables(const toml::table& root, std::string_view name,
                                         std::initializer_list<std::string_view> keys) {
    known_[std::string(name)];  // the section name is known; its keys are checked below
    std::vector<const toml::table*> out;
    const toml::node* n = root.get(name);
    if (n == nullptr) return out;
    const toml::array* a = n->as_array();
    if (a == nullptr || !a->is_array_of_tables()) {
      error(n->source(), "'" + std::string(name) + "' must be an array of tables: write [[" + std::string(name) + "]]");
      return out;
    }
    for (const toml::node& e : *a) {
      const toml::table* t = e.as_table();
      for (auto&& [k, v] : *t)
        if (std::ranges::find(keys, k.str()) == keys.end())
          error(k.source(), "unknown key '" + std::string(k.str()) + "' in [[" + std::string(name) + "]]");
      out.push_back(t);
    }
    return out;
  }

  /// Reports every section of @p root and key of a section that no section() call claimed.
  void check_unknown(const toml::table& root) {
    std::string expected;
    for (const auto& [name, keys] : known_) expected += (expected.empty() ? "[" : ", [") + name + "]";
    for (auto&& [key, value] : root) {
      const auto it = known_.find(std::string(key.str()));
      if (it == known_.end()) {
        error(key.source(), "unknown section '" + std::string(key.str()) + "' (expected " + expected + ")");
        continue;
      }
      if (const toml::table* t = value.as_table())
        for (auto&& [k, v] : *t)
          if (!it->second.contains(std::string(k.str())))
            error(k.source(), "unknown key '" + std::string(k.str()) + "' in [" + it->first + "]");
    }
  }

  template <class T>
  void integer(const toml::table* t, std::string_view key, T& out, std::int64_t min, std::int64_t max) {
    if (t == nullptr) return;
    const toml::node* n = t->get(key);
    if (n == nullptr) return;
    const auto v = n->value<std::int64_t>();
    if (!v || *v < min || *v > max) {
      error(n->source(), "'" + std::string(key) + "' must be an integer from " + std::to_string(min) + " to " +
                             std::to_string(max));
      return;
    }
    out = static_cast<T>(*v);
  }
  void millis(const toml::table* t, std::string_view key, std::chrono::milliseconds& out, std::int64_t min,
              std::int64_t max) {
    std::int64_t ms = out.count();
    integer(t, key, ms, min, max);
    out = std::chrono::milliseconds(ms);
  }
  void seconds(const toml::table* t, std::string_view key, std::chrono::seconds& out, std::int64_t min,
               std::int64_t max) {
    std::int64_t s = out.count();
    integer(t, key, s, min, max);
    out = std::chrono::seconds(s);
  }
  void boolean(const toml::table* t, std::string_view key, bool& out) {
    if (t == nullptr) return;
    const toml::node* n = t->get(key);
    if (n == nullptr) return;
    if (const auto v = n->value<bool>()) out = *v;
    else error(n->source(), "'" + std::string(key) + "' must be true or false");
  }
  const toml::node* string(const toml::table* t, std::string_view key, std::string& out) {
    if (t == nullptr) return nullptr;
    const toml::node* n = t->get(key);
    if (n == nullptr) return nullptr;
    if (const auto v = n->value<std::string>()) out = *v;
    else error(n->source(), "'" + std::string(key) + "' must be a string");
    return n;
  }
  /// Calls @p each(value, node) for every string of an array.
  template <class F>
  void strings(const toml::table* t, std::string_view key, F&& each) {
    if (t == nullptr) return;
    const toml::node* n = t->get(key);
    if (n == nullptr) return;
    const toml::array* a = n->as_array();
    if (a == nullptr) {
      error(n->source(), "'" + std::string(key) + "' must be an array of strings");
      return;
    }
    for (const toml::node& e : *a) {
      if (const auto v = e.value<std::string>()) each(*v, e);
      else error(e.source(), "'" + std::string(key) + "' must hold strings only");
    }
  }
  /// @p path relative to the file's directory (absolute and empty paths unchanged).
  [[nodiscard]] std::string relative(const std::string& path) const;

 private:
  std::string source_;
  std::vector<Diagnostic> errors_;
  std::map<std::string, std::set<std::string>> known_;
  std::set<std::string> reported_;
};

/// Parses @p text, or reports the syntax error in @p r and returns nullopt.
std::optional<toml::table> parse_toml(std::string_view text, TomlReader& r);
/// Reads @p path whole; nullopt (and an error in @p r) when it cannot be read.
std::optional<std::string> read_config_file(const std::string& path, TomlReader& r);

}  // namespace dotpin
