#include "sluice/io/file_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sluice::io {

using core::Result;
using core::Status;

Result<std::unique_ptr<FileWriter>> FileWriter::Create(const std::string& path) {
  if (path == "-") return std::unique_ptr<FileWriter>(new FileWriter(1, false, path));
  std::error_code ec;  // a missing parent folder is created, as users expect of an output path
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError("cannot create " + path + ": " + std::strerror(errno));
  return std::unique_ptr<FileWriter>(new FileWriter(fd, true, path));
}

FileWriter::~FileWriter() {
  if (!closed_) (void)Close();
}

Status FileWriter::Flush() {
  size_t off = 0;
  while (off < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError("write to " + path_ + " failed: " + std::strerror(errno));
    off += static_cast<size_t>(n);
  }
  written_ += static_cast<int64_t>(buf_.size());
  buf_.clear();
  return Status::Ok();
}

Status FileWriter::Close(bool sync) {
  if (closed_) return Status::Ok();
  closed_ = true;
  Status s = Flush();
  if (s.ok() && sync && ::fsync(fd_) != 0)
    s = Status::IoError("fsync " + path_ + ": " + std::strerror(errno));
  if (owns_ && ::close(fd_) != 0 && s.ok())
    s = Status::IoError("close " + path_ + ": " + std::strerror(errno));
  return s;
}

}  // namespace sluice::io
