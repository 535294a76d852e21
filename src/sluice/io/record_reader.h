#pragma once
// Splits a byte stream into records: JSONL lines or CSV records (quote-aware, so a quoted field
// may span lines). Reads in large chunks; a chunk owns its bytes and the records point into them.
// Strips a UTF-8 BOM at the start of the stream and a trailing CR; skips empty lines.
// Not thread-safe; one reader per source.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/core/status.h"

namespace sluice::io {

struct Record {
  uint64_t offset = 0;  // into Chunk::data
  uint64_t length = 0;
  int64_t line = 0;        // 1-based line where the record starts
  bool oversize = false;   // longer than the reader's limit
  bool truncated = false;  // longer than kHardCap: only the first kHardCap bytes are kept
};

struct Chunk {
  std::string data;  // records' bytes, followed by at least kPadding spare bytes of capacity
  std::vector<Record> records;
  std::string_view Text(const Record& r) const {
    return std::string_view(data).substr(r.offset, r.length);
  }
};

class RecordReader {
 public:
  enum class Framing { kLines, kCsv };
  static constexpr size_t kPadding = 64;        // what simdjson needs after a document
  static constexpr size_t kHardCap = 64 << 20;  // a record is never buffered beyond this

  // `fd` is owned when `owns_fd`. max_record_bytes marks longer records as oversize.
  RecordReader(int fd, bool owns_fd, Framing framing, int64_t max_record_bytes);
  ~RecordReader();
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  static core::Result<std::unique_ptr<RecordReader>> Open(const std::string& path, Framing framing,
                                                          int64_t max_record_bytes);

  // Fills `chunk` with the next records, about `target_bytes` of them. Returns false at the end.
  core::Result<bool> Next(Chunk* chunk, size_t target_bytes);
  // Streaming (sluice run): Next returns as soon as it holds at least one record and the bytes
  // read so far are used up, instead of waiting for target_bytes, so a pipe's records flow on at
  // once. With `follow` (tail -f), the end of the file is not the end: Next returns the records it
  // has, possibly none, and the next call reads on from where the file grew.
  void SetStreaming(bool follow) {
    streaming_ = true;
    follow_ = follow;
  }
  int64_t bytes_read() const { return bytes_read_; }
  // Where the next record starts: its byte offset in the file and its line (a checkpoint's
  // position; everything before it has been returned by Next).
  int64_t next_offset() const {
    return base_offset_ + bytes_read_ - static_cast<int64_t>(pending_.used - pending_pos_);
  }
  int64_t next_line() const { return line_; }
  // Continues from a position next_offset()/next_line() gave (restoring a checkpoint). Needs a
  // seekable file: a pipe cannot go back.
  core::Status SeekTo(int64_t offset, int64_t line);

 private:
  core::Status Fill(size_t want);
  // Length of the record starting at pending_[start], or -1 if it ends beyond the buffered bytes.
  int64_t FindEnd(size_t start, int64_t* newlines) const;

  int fd_;
  bool owns_fd_;
  bool streaming_ = false, follow_ = false;
  bool dry_ = false;  // following: the last read found nothing new
  int64_t base_offset_ = 0;  // file offset where reading started (SeekTo)
  Framing framing_;
  int64_t max_record_bytes_;
  // Bytes read but not yet returned. A raw buffer: a std::string would zero every byte it grows
  // by just before read() overwrites them.
  struct Pending {
    std::unique_ptr<char[]> buf;
    size_t used = 0, cap = 0;
    const char* data() const { return buf.get(); }
    size_t size() const { return used; }
  } pending_;
  size_t pending_pos_ = 0;
  bool eof_ = false;
  bool at_start_ = true;
  bool skipping_ = false;  // discarding the rest of a truncated record
  int64_t line_ = 1;
  int64_t bytes_read_ = 0;
};

}  // namespace sluice::io
