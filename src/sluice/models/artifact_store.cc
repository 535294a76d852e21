#include "sluice/models/artifact_store.h"

#include <sys/stat.h>

#include "sluice/models/file_util.h"
#include "sluice/models/sha256.h"

namespace sluice::models {

std::string ArtifactStore::PathOf(const std::string& sha256) const {
  return root_ + "/sha256/" + sha256.substr(0, 2) + "/" + sha256.substr(2);
}

core::Result<std::string> ArtifactStore::Put(std::string_view bytes) const {
  std::string sha = Sha256Hex(bytes);
  const std::string path = PathOf(sha);
  // Already stored and intact: content addressing makes a second write pointless. A damaged
  // copy is replaced, which repairs it.
  struct stat sb;
  if (::stat(path.c_str(), &sb) == 0 && Verify(sha).ok()) return sha;
  SLUICE_RETURN_IF_ERROR(MakeDirs(root_ + "/sha256/" + sha.substr(0, 2)));
  SLUICE_RETURN_IF_ERROR(WriteFileAtomically(path, bytes));
  return sha;
}

core::Result<std::string> ArtifactStore::Get(const std::string& sha256) const {
  if (!IsSha256Hex(sha256))
    return core::Status::InvalidArgument("not a SHA-256 digest: '" + sha256 + "'");
  const std::string path = PathOf(sha256);
  auto bytes = ReadWholeFile(path);
  if (!bytes.ok()) {
    if (bytes.status().code() == core::Code::kNotFound)
      return core::Status::NotFound("artifact " + sha256 + " is missing (" + path + ")");
    return bytes.status();
  }
  const std::string actual = Sha256Hex(*bytes);
  if (actual != sha256) {
    return core::Status::Corruption("artifact " + path + " is corrupted: its bytes hash to " +
                                    actual + ", not to the recorded " + sha256 +
                                    "; refusing to load it");
  }
  return bytes;
}

core::Status ArtifactStore::Verify(const std::string& sha256) const {
  auto bytes = Get(sha256);
  return bytes.ok() ? core::Status::Ok() : bytes.status();
}

}  // namespace sluice::models
