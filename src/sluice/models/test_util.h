#pragma once
// A temporary folder for unit tests, removed with everything in it at scope exit.
#include <cstdlib>
#include <filesystem>
#include <string>

namespace sluice::models {

class TempDir {
 public:
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "sluice-models-XXXXXX").string();
    path_ = mkdtemp(t.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace sluice::models
