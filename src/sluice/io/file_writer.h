#pragma once
// A buffered, append-only output file ("-" is stdout). Writes go out in large blocks.
// Not thread-safe: one writer per thread, or guard it.
#include <memory>
#include <string>
#include <string_view>

#include "sluice/core/status.h"

namespace sluice::io {

class FileWriter {
 public:
  static core::Result<std::unique_ptr<FileWriter>> Create(const std::string& path);
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  // The buffer callers append to directly; call MaybeFlush() after appending a record.
  std::string* buffer() { return &buf_; }
  core::Status MaybeFlush() { return buf_.size() >= kFlushAt ? Flush() : core::Status::Ok(); }
  core::Status Append(std::string_view s) {
    buf_.append(s);
    return MaybeFlush();
  }
  core::Status Flush();
  // Flushes, fsyncs when asked, and closes; errors (disk full) surface here at the latest.
  core::Status Close(bool sync = false);
  const std::string& path() const { return path_; }
  int64_t bytes_written() const { return written_; }

 private:
  static constexpr size_t kFlushAt = 1 << 20;
  FileWriter(int fd, bool owns, std::string path) : fd_(fd), owns_(owns), path_(std::move(path)) {}
  int fd_;
  bool owns_;
  std::string path_;
  std::string buf_;
  int64_t written_ = 0;
  bool closed_ = false;
};

}  // namespace sluice::io
