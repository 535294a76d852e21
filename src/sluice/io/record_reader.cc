#include "sluice/io/record_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sluice::io {

using core::Result;
using core::Status;

RecordReader::RecordReader(int fd, bool owns_fd, Framing framing, int64_t max_record_bytes)
    : fd_(fd), owns_fd_(owns_fd), framing_(framing), max_record_bytes_(max_record_bytes) {}

RecordReader::~RecordReader() {
  if (owns_fd_) ::close(fd_);
}

Result<std::unique_ptr<RecordReader>> RecordReader::Open(const std::string& path, Framing framing,
                                                         int64_t max_record_bytes) {
  if (path == "-") return std::make_unique<RecordReader>(0, false, framing, max_record_bytes);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("cannot open " + path + ": " + std::strerror(errno));
  return std::make_unique<RecordReader>(fd, true, framing, max_record_bytes);
}

Status RecordReader::Fill(size_t want) {
  if (pending_pos_ > 0) {  // keep only the unreturned tail
    std::memmove(pending_.buf.get(), pending_.buf.get() + pending_pos_,
                 pending_.used - pending_pos_);
    pending_.used -= pending_pos_;
    pending_pos_ = 0;
  }
  const size_t old = pending_.used;
  if (old + want > pending_.cap) {
    const size_t cap = std::max(pending_.cap * 2, old + want);
    std::unique_ptr<char[]> grown(new char[cap]);
    if (old > 0) std::memcpy(grown.get(), pending_.buf.get(), old);
    pending_.buf = std::move(grown);
    pending_.cap = cap;
  }
  ssize_t n;
  do {
    n = ::read(fd_, pending_.buf.get() + old, want);
    // A streaming reader gives a signal (shutdown) the chance to be seen: nothing read, not the end.
    if (n < 0 && errno == EINTR && streaming_) {
      dry_ = true;
      return Status::Ok();
    }
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return Status::IoError(std::string("read failed: ") + std::strerror(errno));
  }
  pending_.used = old + static_cast<size_t>(n);
  bytes_read_ += n;
  if (n == 0) (follow_ ? dry_ : eof_) = true;
  return Status::Ok();
}

int64_t RecordReader::FindEnd(size_t start, int64_t* newlines) const {
  const char* base = pending_.data();
  size_t size = pending_.size();
  *newlines = 0;
  if (framing_ == Framing::kLines) {
    const void* nl = std::memchr(base + start, '\n', size - start);
    return nl ? static_cast<const char*>(nl) - (base + start) : -1;
  }
  bool quoted = false;
  for (size_t i = start; i < size; ++i) {
    char c = base[i];
    if (c == '"')
      quoted = !quoted;
    else if (c == '\n') {
      if (!quoted) return static_cast<int64_t>(i - start);
      ++*newlines;
    }
  }
  return -1;
}

core::Status RecordReader::SeekTo(int64_t offset, int64_t line) {
  if (::lseek(fd_, offset, SEEK_SET) != offset)
    return core::Status::IoError(std::string("cannot seek the input (a pipe cannot resume from a "
                                             "checkpoint): ") + std::strerror(errno));
  pending_.used = 0;
  pending_pos_ = 0;
  bytes_read_ = 0;
  base_offset_ = offset;
  line_ = line;
  at_start_ = offset == 0;
  eof_ = dry_ = skipping_ = false;
  return core::Status::Ok();
}

Result<bool> RecordReader::Next(Chunk* chunk, size_t target_bytes) {
  chunk->data.clear();
  chunk->records.clear();
  dry_ = false;
  while (chunk->data.size() < target_bytes) {
    if (pending_pos_ == pending_.size()) {
      if (eof_ || dry_ || (streaming_ && !chunk->records.empty())) break;
      SLUICE_RETURN_IF_ERROR(Fill(4 << 20));
      continue;
    }
    int64_t inner_newlines = 0;
    int64_t len = FindEnd(pending_pos_, &inner_newlines);
    size_t avail = pending_.size() - pending_pos_;
    bool truncate = false;
    if (len < 0 && !eof_) {
      // Streaming: hand out the complete records first; the partial one waits for more bytes.
      if (dry_ || (streaming_ && !chunk->records.empty())) break;
      if (avail <= kHardCap) {
        SLUICE_RETURN_IF_ERROR(Fill(avail > (4 << 20) ? avail : (4 << 20)));
        continue;
      }
      truncate = true;  // give up buffering: keep kHardCap bytes, drop the rest of the record
    }
    size_t rec_len = len >= 0 ? static_cast<size_t>(len) : avail;
    if (truncate) rec_len = kHardCap;
    size_t consumed = rec_len + (len >= 0 ? 1 : 0);
    std::string_view text(pending_.data() + pending_pos_, rec_len);
    if (at_start_ && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    at_start_ = false;
    if (!text.empty() && text.back() == '\r' && !truncate) text.remove_suffix(1);
    bool was_skipping = skipping_;
    skipping_ = truncate || (skipping_ && len < 0);
    if (!text.empty() && !was_skipping) {
      Record r;
      r.offset = chunk->data.size();
      r.length = text.size();
      r.line = line_;
      r.oversize = static_cast<int64_t>(text.size()) > max_record_bytes_;
      r.truncated = truncate;
      chunk->data.append(text);
      chunk->records.push_back(r);
    }
    line_ += inner_newlines + (len >= 0 ? 1 : 0);
    pending_pos_ += consumed;
  }
  // simdjson reads up to kPadding bytes past a document: make sure they are allocated.
  chunk->data.reserve(chunk->data.size() + kPadding);
  return !chunk->records.empty() || !(eof_ && pending_pos_ == pending_.size());
}

}  // namespace sluice::io
