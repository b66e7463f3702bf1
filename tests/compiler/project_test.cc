// Building Projects from uploads, hostile archives included. Archives are
// written here with libarchive, so every hostile shape is exact.
#include "compiler/source/project.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <memory>

namespace milf::compiler {
namespace {

struct Entry {
  Entry(std::string entry_path, std::string entry_data = "", unsigned entry_type = AE_IFREG,
        std::string entry_link = "")
      : path(std::move(entry_path)),
        data(std::move(entry_data)),
        type(entry_type),
        link(std::move(entry_link)) {}
  std::string path;
  std::string data;
  unsigned type;
  std::string link;  // symlink target, or hardlink source when type is 0
};

enum class Format { kTar, kTarGz, kZip };

std::vector<std::uint8_t> MakeArchive(const std::vector<Entry>& entries, Format format) {
  std::vector<std::uint8_t> bytes(8 << 20);
  std::size_t used = 0;
  std::unique_ptr<archive, decltype(&archive_write_free)> writer(archive_write_new(),
                                                                 archive_write_free);
  if (format == Format::kZip) {
    archive_write_set_format_zip(writer.get());
  } else {
    archive_write_set_format_pax_restricted(writer.get());
    if (format == Format::kTarGz) archive_write_add_filter_gzip(writer.get());
  }
  EXPECT_EQ(archive_write_open_memory(writer.get(), bytes.data(), bytes.size(), &used), ARCHIVE_OK);
  for (const Entry& e : entries) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                        archive_entry_free);
    archive_entry_set_pathname(entry.get(), e.path.c_str());
    archive_entry_set_perm(entry.get(), 0644);
    if (e.type == 0) {
      archive_entry_set_filetype(entry.get(), AE_IFREG);
      archive_entry_set_hardlink(entry.get(), e.link.c_str());
    } else {
      archive_entry_set_filetype(entry.get(), e.type);
      if (e.type == AE_IFLNK) archive_entry_set_symlink(entry.get(), e.link.c_str());
      if (e.type == AE_IFREG)
        archive_entry_set_size(entry.get(), static_cast<la_int64_t>(e.data.size()));
    }
    EXPECT_EQ(archive_write_header(writer.get(), entry.get()), ARCHIVE_OK) << e.path;
    if (e.type == AE_IFREG && !e.data.empty()) {
      archive_write_data(writer.get(), e.data.data(), e.data.size());
    }
  }
  archive_write_close(writer.get());
  bytes.resize(used);
  return bytes;
}

std::string RefusalOf(const std::vector<Entry>& entries, Format format = Format::kTar,
                      const ProjectLimits& limits = {}) {
  auto project = ArchiveProject(MakeArchive(entries, format), "", limits);
  if (project) return "accepted";
  return project.error().code + ": " + project.error().message;
}

TEST(ProjectTest, SingleFileTakesItsLanguageFromTheExtension) {
  EXPECT_EQ(SingleFileProject("a.c", "")->language, Language::kC);
  EXPECT_EQ(SingleFileProject("a.cc", "")->language, Language::kCxx);
  EXPECT_EQ(SingleFileProject("a.cpp", "")->language, Language::kCxx);
  EXPECT_EQ(SingleFileProject("a.cxx", "")->language, Language::kCxx);
  EXPECT_EQ(SingleFileProject("index.ts", "")->language, Language::kAssemblyScript);
  EXPECT_EQ(SingleFileProject("main.rs", "")->language, Language::kRust);
  EXPECT_EQ(SingleFileProject("a.py", "").error().code, "invalid_source");
  EXPECT_EQ(SingleFileProject("../a.c", "").error().code, "invalid_source");
  EXPECT_EQ(SingleFileProject("/etc/a.c", "").error().code, "invalid_source");
  EXPECT_EQ(SingleFileProject("dir/a.c", "").error().code, "invalid_source");
  EXPECT_EQ(SingleFileProject("a.c", std::string(2 << 20, 'x')).error().code, "invalid_source");
}

TEST(ProjectTest, ReadsTarTarGzAndZip) {
  for (Format format : {Format::kTar, Format::kTarGz, Format::kZip}) {
    auto project = ArchiveProject(
        MakeArchive(
            {{"proj/", "", AE_IFDIR}, {"proj/main.c", "int main(){}"}, {"proj/util.h", "//"}},
            format),
        "");
    ASSERT_TRUE(project) << project.error().message;
    ASSERT_EQ(project->files.size(), 2u);
    EXPECT_EQ(project->files[0].path, "main.c");  // the common top directory is stripped
    EXPECT_EQ(project->files[0].text, "int main(){}");
    EXPECT_EQ(project->entry, "main.c");
    EXPECT_EQ(project->language, Language::kC);
  }
}

TEST(ProjectTest, ChoosesTheEntry) {
  auto named = ArchiveProject(MakeArchive({{"a.c", ""}, {"b.c", ""}}, Format::kTar), "b.c");
  ASSERT_TRUE(named);
  EXPECT_EQ(named->entry, "b.c");
  auto single = ArchiveProject(MakeArchive({{"tool.rs", ""}, {"README", ""}}, Format::kTar), "");
  ASSERT_TRUE(single);
  EXPECT_EQ(single->entry, "tool.rs");
  EXPECT_EQ(single->language, Language::kRust);
  auto mixed = ArchiveProject(MakeArchive({{"main.c", ""}, {"x.cpp", ""}}, Format::kTar), "");
  ASSERT_TRUE(mixed);
  EXPECT_EQ(mixed->language, Language::kCxx);
  EXPECT_EQ(ArchiveProject(MakeArchive({{"a.c", ""}, {"b.c", ""}}, Format::kTar), "").error().code,
            "invalid_source");
  EXPECT_EQ(ArchiveProject(MakeArchive({{"a.c", ""}}, Format::kTar), "zz.c").error().code,
            "invalid_source");
}

TEST(ProjectTest, RefusesHostileArchives) {
  EXPECT_NE(RefusalOf({{"../evil.c", "x"}}).find("invalid_archive"), std::string::npos);
  EXPECT_NE(RefusalOf({{"a/../../evil.c", "x"}}).find("invalid_archive"), std::string::npos);
  EXPECT_NE(RefusalOf({{"/etc/evil.c", "x"}}).find("invalid_archive"), std::string::npos);
  EXPECT_NE(RefusalOf({{"main.c", "", AE_IFLNK, "/etc/passwd"}}).find("links"), std::string::npos);
  EXPECT_NE(RefusalOf({{"a.c", "x"}, {"main.c", "", 0, "a.c"}}).find("links"), std::string::npos);
  EXPECT_NE(RefusalOf({{"dev", "", AE_IFCHR}}).find("regular files"), std::string::npos);
  EXPECT_NE(RefusalOf({{"fifo", "", AE_IFIFO}}).find("regular files"), std::string::npos);
  EXPECT_NE(RefusalOf({{"main.c", "a"}, {"main.c", "b"}}).find("twice"), std::string::npos);
  EXPECT_NE(RefusalOf({{"main.c", "", AE_IFLNK, "x"}}, Format::kZip).find("links"),
            std::string::npos);
  EXPECT_EQ(ArchiveProject(std::vector<std::uint8_t>{'n', 'o', 'p', 'e'}, "").error().code,
            "invalid_archive");
}

TEST(ProjectTest, RefusesTooManyFilesAndBombs) {
  ProjectLimits limits;
  limits.max_files = 3;
  EXPECT_NE(RefusalOf({{"a.c", ""}, {"b.c", ""}, {"c.c", ""}, {"main.c", ""}}, Format::kTar, limits)
                .find("more than 3 files"),
            std::string::npos);
  // 40 MiB of zeros compress to a few tens of KiB: the cap stops the read.
  const std::vector<Entry> bomb = {{"main.c", std::string(40 << 20, '\0')}};
  for (Format format : {Format::kTarGz, Format::kZip}) {
    const std::vector<std::uint8_t> archive = MakeArchive(bomb, format);
    EXPECT_LT(archive.size(), 1u << 20);
    auto project = ArchiveProject(archive, "");
    ASSERT_FALSE(project);
    EXPECT_NE(project.error().message.find("larger than"), std::string::npos)
        << project.error().message;
  }
  limits = {};
  limits.max_file_bytes = 1 << 20;
  limits.max_total_bytes = 3 << 20;
  std::vector<Entry> many;
  for (int i = 0; i < 5; ++i)
    many.push_back({"f" + std::to_string(i) + ".c", std::string(900 << 10, 'x')});
  EXPECT_NE(RefusalOf(many, Format::kTarGz, limits).find("more than"), std::string::npos);
}

}  // namespace
}  // namespace milf::compiler
