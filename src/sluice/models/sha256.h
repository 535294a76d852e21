#pragma once
// SHA-256 through OpenSSL's libcrypto EVP interface (Debian's libssl-dev): a maintained,
// hardware-accelerated implementation; hashing is not something to write by hand.
#include <memory>
#include <string>
#include <string_view>

#include "sluice/core/status.h"

namespace sluice::models {

// Incremental hashing. Owns one EVP_MD_CTX; not thread-safe (one hasher per thread).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // The digest as 64 lowercase hex characters; the hasher is then reset for new input.
  std::string FinishHex();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// SHA-256 of `bytes` as 64 lowercase hex characters. Safe from any thread.
std::string Sha256Hex(std::string_view bytes);

// SHA-256 of a file's bytes, read in blocks (training sets can be large).
core::Result<std::string> Sha256OfFile(const std::string& path);

// Whether `s` looks like a digest FinishHex() returns (64 lowercase hex characters).
bool IsSha256Hex(std::string_view s);

}  // namespace sluice::models
