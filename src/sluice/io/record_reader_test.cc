#include "sluice/io/record_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace sluice::io {
namespace {

std::vector<std::pair<std::string, int64_t>> ReadAll(const std::string& bytes,
                                                     RecordReader::Framing f,
                                                     int64_t max_bytes = 1 << 20, size_t chunk = 7,
                                                     std::vector<bool>* oversize = nullptr) {
  char path[] = "/tmp/sluice_rr_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  close(fd);
  auto r = RecordReader::Open(path, f, max_bytes);
  EXPECT_TRUE(r.ok());
  std::vector<std::pair<std::string, int64_t>> out;
  Chunk c;
  while (true) {
    auto more = (*r)->Next(&c, chunk);
    EXPECT_TRUE(more.ok());
    for (const auto& rec : c.records) {
      out.emplace_back(std::string(c.Text(rec)), rec.line);
      if (oversize) oversize->push_back(rec.oversize);
    }
    if (!*more) break;
  }
  unlink(path);
  return out;
}

TEST(RecordReader, LinesWithCrlfBomAndBlankLines) {
  auto recs =
      ReadAll("\xEF\xBB\xBF{\"a\":1}\r\n\n{\"a\":2}\n\r\n{\"a\":3}", RecordReader::Framing::kLines);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].first, "{\"a\":1}");
  EXPECT_EQ(recs[0].second, 1);
  EXPECT_EQ(recs[1].first, "{\"a\":2}");
  EXPECT_EQ(recs[1].second, 3);
  EXPECT_EQ(recs[2].first, "{\"a\":3}");
  EXPECT_EQ(recs[2].second, 5);
}

TEST(RecordReader, BomOnlyStrippedAtStart) {
  auto recs = ReadAll("x\n\xEF\xBB\xBFy\n", RecordReader::Framing::kLines);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].first, "\xEF\xBB\xBFy");
}

TEST(RecordReader, CsvQuotedNewlines) {
  auto recs = ReadAll("a,b\n1,\"x\ny\"\n2,\"z\"\"\"\n", RecordReader::Framing::kCsv);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1].first, "1,\"x\ny\"");
  EXPECT_EQ(recs[1].second, 2);
  EXPECT_EQ(recs[2].second, 4);
}

TEST(RecordReader, OversizeFlagged) {
  std::string big(5000, 'x');
  std::vector<bool> over;
  auto recs =
      ReadAll("short\n" + big + "\nafter\n", RecordReader::Framing::kLines, 1000, 1 << 20, &over);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_FALSE(over[0]);
  EXPECT_TRUE(over[1]);
  EXPECT_EQ(recs[1].first.size(), 5000u);
  EXPECT_EQ(recs[2].second, 3);
}

}  // namespace
}  // namespace sluice::io
