#pragma once
// A content-addressed store of model artifacts: the bytes whose SHA-256 is H live in
// ROOT/sha256/H[0:2]/H[2:]. Writing the same bytes twice is a no-op; reading re-hashes, so a
// file changed on disk is reported as Corruption instead of being served.
#include <string>
#include <string_view>

#include "sluice/core/status.h"

namespace sluice::models {

// Holds only its root path. Safe to use from many threads and processes at once: every write
// goes to a temporary file that is fsynced and renamed into place, and equal names mean equal
// bytes, so concurrent writers of one artifact agree.
class ArtifactStore {
 public:
  explicit ArtifactStore(std::string root) : root_(std::move(root)) {}

  // Stores the bytes; returns their SHA-256 (64 lowercase hex characters).
  core::Result<std::string> Put(std::string_view bytes) const;
  // The bytes stored under `sha256`, after checking they still hash to it.
  // NotFound when absent, Corruption when the bytes on disk no longer match.
  core::Result<std::string> Get(const std::string& sha256) const;
  // Get() without keeping the bytes.
  core::Status Verify(const std::string& sha256) const;

  std::string PathOf(const std::string& sha256) const;
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

}  // namespace sluice::models
