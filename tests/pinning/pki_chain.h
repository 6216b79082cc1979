// SPDX-License-Identifier: Apache-2.0
/// @file pki_chain.h
/// @brief Loading a PEM file of the test PKI as the chain a server would present.
#pragma once

#include "pinning/pem.h"
#include "pinning/pin_set.h"
#include "tests/test_pki.h"

namespace dotpin::test {

inline PkiChain load_chain(const std::string& file) {
  PkiChain c;
  auto objs = read_key_objects(pki_file(file), file);
  EXPECT_TRUE(objs.ok()) << file;
  if (objs)
    for (auto& o : *objs) c.ders.push_back(std::move(o.der));
  for (const auto& d : c.ders) c.spans.emplace_back(d);
  return c;
}

/// The reference pin of @p stem as a Pin with @p label.
inline Pin pin_of(const std::string& stem, std::string label = "p") {
  Pin p;
  p.digest = *parse_pin_base64(reference_pin(stem));
  p.label = std::move(label);
  return p;
}

}  // namespace dotpin::test
