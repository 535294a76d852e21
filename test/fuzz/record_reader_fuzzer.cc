// Fuzzes RecordReader: the input (after two selector bytes) is written to a memfd and read back
// in small chunks with a small max_record_bytes. For line framing the records are compared with
// an independent splitter written from docs/semantics.md (1-based physical lines, a BOM dropped
// only at the start of the file, one CR before the newline dropped, empty lines skipped, longer
// than the limit = oversize). For CSV framing, where a quoted field may span lines, it checks that
// each record is the input's bytes at a position consistent with its line number, in order.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "sluice/io/record_reader.h"

namespace {

using sluice::io::Chunk;
using sluice::io::RecordReader;

struct Got {
  std::string text;
  int64_t line;
  bool oversize;
};

std::vector<Got> ExpectedLines(std::string_view in, int64_t max_bytes) {
  std::vector<Got> out;
  if (in.substr(0, 3) == "\xEF\xBB\xBF") in.remove_prefix(3);
  int64_t line = 1;
  while (true) {
    size_t nl = in.find('\n');
    std::string_view l = in.substr(0, nl);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (!l.empty())
      out.push_back({std::string(l), line, static_cast<int64_t>(l.size()) > max_bytes});
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
    ++line;
  }
  return out;
}

int64_t LineAt(std::string_view in, size_t pos) {
  int64_t line = 1;
  for (size_t i = 0; i < pos; ++i) line += in[i] == '\n';
  return line;
}

// Finds `r` in `in` at or after `from` where its line number also matches; returns its end.
size_t LocateCsvRecord(std::string_view in, size_t from, const Got& r) {
  for (size_t p = in.find(r.text, from); p != std::string_view::npos; p = in.find(r.text, p + 1)) {
    if (LineAt(in, p) == r.line) return p + r.text.size();
  }
  sluice::fuzz::Fail("CSV record is not the input's bytes at its line", in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool csv = data[0] & 1;
  const int64_t max_bytes = 1 + (data[0] >> 1);  // 1 .. 128
  const size_t target = 1 + data[1];             // 1 .. 256
  std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);

  int fd = memfd_create("sluice_fuzz_rr", 0);
  if (fd < 0) return 0;
  if (!in.empty() && write(fd, in.data(), in.size()) != static_cast<ssize_t>(in.size())) {
    close(fd);
    return 0;
  }
  lseek(fd, 0, SEEK_SET);
  RecordReader reader(fd, /*owns_fd=*/true,
                      csv ? RecordReader::Framing::kCsv : RecordReader::Framing::kLines, max_bytes);
  std::vector<Got> got;
  Chunk chunk;
  for (int rounds = 0;; ++rounds) {
    if (rounds > static_cast<int>(in.size()) + 4)
      sluice::fuzz::Fail("reader does not reach the end", in);
    auto more = reader.Next(&chunk, target);
    if (!more.ok()) sluice::fuzz::Fail("reader failed on a readable memfd", in);
    for (const auto& r : chunk.records) {
      if (r.offset + r.length > chunk.data.size())
        sluice::fuzz::Fail("record outside its chunk", in);
      if (r.offset + r.length + RecordReader::kPadding > chunk.data.capacity())
        sluice::fuzz::Fail("record not followed by kPadding bytes of capacity", in);
      if (r.length == 0) sluice::fuzz::Fail("empty record (empty lines are not records)", in);
      if (!got.empty() && r.line <= got.back().line)
        sluice::fuzz::Fail("line numbers do not increase", in);
      if (r.oversize != (static_cast<int64_t>(r.length) > max_bytes) && !r.truncated)
        sluice::fuzz::Fail("oversize flag disagrees with the record length", in);
      got.push_back({std::string(chunk.Text(r)), r.line, r.oversize});
    }
    if (!*more) break;
  }
  if (reader.bytes_read() != static_cast<int64_t>(in.size()))
    sluice::fuzz::Fail("bytes_read != file size", in);

  if (!csv) {
    std::vector<Got> want = ExpectedLines(in, max_bytes);
    if (want.size() != got.size()) sluice::fuzz::Fail("line framing: wrong number of records", in);
    for (size_t i = 0; i < want.size(); ++i) {
      if (want[i].text != got[i].text) sluice::fuzz::Fail("line framing: wrong record bytes", in);
      if (want[i].line != got[i].line) sluice::fuzz::Fail("line framing: wrong line number", in);
      if (want[i].oversize != got[i].oversize)
        sluice::fuzz::Fail("line framing: wrong oversize flag", in);
    }
  } else {
    size_t pos = 0;
    for (const auto& r : got) pos = LocateCsvRecord(in, pos, r);
  }
  return 0;
}
