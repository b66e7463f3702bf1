#include "wasm/wasi/memory_fs.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "wasm/wasi/path.h"

namespace milf::wasm::wasi {

struct MemoryDirectory::Entry {
  std::uint64_t inode = 0;
  bool is_directory = false;
  bool removed = false;                 // a directory taken out of the tree
  std::vector<std::uint8_t> data;       // regular files
  std::map<std::string, std::shared_ptr<Entry>, std::less<>> children;  // directories

  Entry() = default;
  Entry(const Entry&) = delete;
  Entry& operator=(const Entry&) = delete;
  ~Entry();
};

// Tears the subtree down iteratively: a guest can nest directories deeper
// than the host stack could unwind recursively.
MemoryDirectory::Entry::~Entry() {
  std::vector<std::shared_ptr<Entry>> doomed;
  for (auto& [name, child] : children) doomed.push_back(std::move(child));
  children.clear();
  while (!doomed.empty()) {
    std::shared_ptr<Entry> entry = std::move(doomed.back());
    doomed.pop_back();
    if (entry.use_count() != 1) continue;
    for (auto& [name, child] : entry->children) doomed.push_back(std::move(child));
    entry->children.clear();
  }
}

struct MemoryDirectory::Tree {
  std::uint64_t next_inode = 1;

  std::shared_ptr<Entry> NewEntry(bool is_directory) {
    auto entry = std::make_shared<Entry>();
    entry->inode = next_inode++;
    entry->is_directory = is_directory;
    return entry;
  }
};

namespace {

using Entry = MemoryDirectory::Entry;
using EntryPtr = std::shared_ptr<Entry>;

FileStat EntryStat(const Entry& entry) {
  FileStat stat;
  stat.type = entry.is_directory ? Filetype::kDirectory : Filetype::kRegularFile;
  stat.inode = entry.inode;
  stat.size = entry.is_directory ? 0 : entry.data.size();
  return stat;
}

class MemoryFile final : public File {
 public:
  explicit MemoryFile(EntryPtr entry) : entry_(std::move(entry)) {}

  FsResult<std::size_t> ReadAt(std::uint64_t offset, std::span<std::uint8_t> out) override {
    const auto& data = entry_->data;
    if (offset >= data.size()) return std::size_t{0};
    const std::size_t count = std::min<std::uint64_t>(out.size(), data.size() - offset);
    std::memcpy(out.data(), data.data() + offset, count);
    return count;
  }

  FsResult<std::size_t> WriteAt(std::uint64_t offset,
                                std::span<const std::uint8_t> bytes) override {
    if (offset > MemoryDirectory::kMaxFileBytes ||
        bytes.size() > MemoryDirectory::kMaxFileBytes - offset) {
      return Fail(Errno::kFbig);
    }
    auto& data = entry_->data;
    const std::uint64_t end = offset + bytes.size();
    if (end > data.size()) data.resize(end);
    if (!bytes.empty()) std::memcpy(data.data() + offset, bytes.data(), bytes.size());
    return bytes.size();
  }

  FsResult<FileStat> Stat() override { return EntryStat(*entry_); }

 private:
  EntryPtr entry_;
};

// Walks the first `count` components as directories from `base`. ".." may
// not climb above `base`: that is the confinement every Directory promises.
FsResult<EntryPtr> WalkDirectories(const EntryPtr& base, const std::vector<std::string>& components,
                                   std::size_t count) {
  std::vector<EntryPtr> stack{base};
  for (std::size_t i = 0; i < count; ++i) {
    const std::string& name = components[i];
    if (name == ".") continue;
    if (name == "..") {
      if (stack.size() == 1) return Fail(Errno::kNotcapable);
      stack.pop_back();
      continue;
    }
    const auto it = stack.back()->children.find(name);
    if (it == stack.back()->children.end()) return Fail(Errno::kNoent);
    if (!it->second->is_directory) return Fail(Errno::kNotdir);
    stack.push_back(it->second);
  }
  return stack.back();
}

// Where a path leads: the directory holding its last component, that
// component, and the entry it names (null when absent). A path ending in "."
// or ".." names `parent` itself, with an empty leaf.
struct Location {
  EntryPtr parent;
  std::string leaf;
  EntryPtr entry;
};

FsResult<Location> Locate(const EntryPtr& base, const ParsedPath& path) {
  const std::size_t count = path.components.size();
  if (path.leaf_is_dot()) {
    auto dir = WalkDirectories(base, path.components, count);
    if (!dir) return Fail(dir.error());
    return Location{*dir, "", *dir};
  }
  auto parent = WalkDirectories(base, path.components, count - 1);
  if (!parent) return Fail(parent.error());
  if ((*parent)->removed) return Fail(Errno::kNoent);
  Location location{*parent, path.leaf(), nullptr};
  const auto it = (*parent)->children.find(path.leaf());
  if (it != (*parent)->children.end()) {
    location.entry = it->second;
    if (path.trailing_slash && !location.entry->is_directory) return Fail(Errno::kNotdir);
  }
  return location;
}

FsResult<Location> LocatePath(const EntryPtr& base, std::string_view path) {
  auto parsed = ParseRelativePath(path);
  if (!parsed) return Fail(parsed.error());
  return Locate(base, *parsed);
}

// True when `node` is `ancestor` or lies below it.
bool IsWithin(const EntryPtr& node, const EntryPtr& ancestor) {
  std::vector<const Entry*> pending{ancestor.get()};
  while (!pending.empty()) {
    const Entry* current = pending.back();
    pending.pop_back();
    if (current == node.get()) return true;
    for (const auto& [name, child] : current->children) {
      if (child->is_directory) pending.push_back(child.get());
    }
  }
  return false;
}

}  // namespace

std::shared_ptr<MemoryDirectory> MemoryDirectory::Create() {
  auto tree = std::make_shared<Tree>();
  auto root = tree->NewEntry(/*is_directory=*/true);
  return std::make_shared<MemoryDirectory>(std::move(tree), std::move(root));
}

MemoryDirectory::MemoryDirectory(std::shared_ptr<Tree> tree, std::shared_ptr<Entry> self)
    : tree_(std::move(tree)), self_(std::move(self)) {}

FsResult<void> MemoryDirectory::AddFile(std::string_view path,
                                        std::span<const std::uint8_t> contents) {
  auto parsed = ParseRelativePath(path);
  if (!parsed) return Fail(parsed.error());
  if (contents.size() > kMaxFileBytes) return Fail(Errno::kFbig);
  EntryPtr dir = self_;
  for (const std::string& name : parsed->components) {
    if (name == "." || name == "..") return Fail(Errno::kInval);
    if (&name == &parsed->leaf()) break;
    auto& child = dir->children[name];
    if (!child) child = tree_->NewEntry(/*is_directory=*/true);
    if (!child->is_directory) return Fail(Errno::kNotdir);
    dir = child;
  }
  auto& file = dir->children[parsed->leaf()];
  if (!file) file = tree_->NewEntry(/*is_directory=*/false);
  if (file->is_directory) return Fail(Errno::kIsdir);
  file->data.assign(contents.begin(), contents.end());
  return {};
}

FsResult<FileStat> MemoryDirectory::Stat() { return EntryStat(*self_); }

FsResult<std::vector<DirEntry>> MemoryDirectory::List() {
  std::vector<DirEntry> entries;
  entries.reserve(self_->children.size());
  for (const auto& [name, child] : self_->children) {
    entries.push_back({name, EntryStat(*child).type, child->inode});
  }
  return entries;
}

FsResult<Node> MemoryDirectory::Open(std::string_view path, const OpenRequest& request) {
  auto parsed = ParseRelativePath(path);
  if (!parsed) return Fail(parsed.error());
  auto location = Locate(self_, *parsed);
  if (!location) return Fail(location.error());
  EntryPtr entry = location->entry;

  if (!entry) {
    if (!request.create) return Fail(Errno::kNoent);
    if (request.directory) return Fail(Errno::kInval);
    if (parsed->trailing_slash) return Fail(Errno::kIsdir);
    entry = tree_->NewEntry(/*is_directory=*/false);
    location->parent->children.emplace(location->leaf, entry);
    return Node(std::shared_ptr<File>(std::make_shared<MemoryFile>(std::move(entry))));
  }
  if (request.create && request.exclusive) return Fail(Errno::kExist);
  if (entry->is_directory) {
    if (request.write || request.truncate) return Fail(Errno::kIsdir);
    return Node(std::shared_ptr<Directory>(std::make_shared<MemoryDirectory>(tree_, entry)));
  }
  if (request.directory) return Fail(Errno::kNotdir);
  if (request.truncate) {
    entry->data.clear();
    entry->data.shrink_to_fit();
  }
  return Node(std::shared_ptr<File>(std::make_shared<MemoryFile>(std::move(entry))));
}

FsResult<FileStat> MemoryDirectory::StatAt(std::string_view path, bool follow_symlinks) {
  auto location = LocatePath(self_, path);
  if (!location) return Fail(location.error());
  if (!location->entry) return Fail(Errno::kNoent);
  return EntryStat(*location->entry);
}

FsResult<void> MemoryDirectory::CreateDirectory(std::string_view path) {
  auto parsed = ParseRelativePath(path);
  if (!parsed) return Fail(parsed.error());
  if (parsed->leaf_is_dot()) return Fail(Errno::kExist);
  auto location = Locate(self_, *parsed);
  if (!location) return Fail(location.error());
  if (location->entry) return Fail(Errno::kExist);
  location->parent->children.emplace(location->leaf, tree_->NewEntry(/*is_directory=*/true));
  return {};
}

FsResult<void> MemoryDirectory::UnlinkFile(std::string_view path) {
  auto parsed = ParseRelativePath(path);
  if (!parsed) return Fail(parsed.error());
  if (parsed->leaf_is_dot()) return Fail(Errno::kInval);
  auto location = Locate(self_, *parsed);
  if (!location) return Fail(location.error());
  if (!location->entry) return Fail(Errno::kNoent);
  if (location->entry->is_directory) return Fail(Errno::kIsdir);
  location->parent->children.erase(location->leaf);
  return {};
}

FsResult<void> MemoryDirectory::RemoveDirectory(std::string_view path) {
  auto parsed = ParseRelativePath(path);
  if (!parsed) return Fail(parsed.error());
  if (parsed->leaf_is_dot()) return Fail(Errno::kInval);
  auto location = Locate(self_, *parsed);
  if (!location) return Fail(location.error());
  const EntryPtr& entry = location->entry;
  if (!entry) return Fail(Errno::kNoent);
  if (!entry->is_directory) return Fail(Errno::kNotdir);
  if (!entry->children.empty()) return Fail(Errno::kNotempty);
  entry->removed = true;
  location->parent->children.erase(location->leaf);
  return {};
}

FsResult<void> MemoryDirectory::Rename(std::string_view from, Directory& to_dir,
                                       std::string_view to) {
  auto* target = dynamic_cast<MemoryDirectory*>(&to_dir);
  if (target == nullptr || target->tree_ != tree_) return Fail(Errno::kXdev);
  auto from_path = ParseRelativePath(from);
  if (!from_path) return Fail(from_path.error());
  auto to_path = ParseRelativePath(to);
  if (!to_path) return Fail(to_path.error());
  if (from_path->leaf_is_dot() || to_path->leaf_is_dot()) return Fail(Errno::kInval);

  auto source = Locate(self_, *from_path);
  if (!source) return Fail(source.error());
  if (!source->entry) return Fail(Errno::kNoent);
  auto dest = Locate(target->self_, *to_path);
  if (!dest) return Fail(dest.error());
  const EntryPtr moving = source->entry;
  if (dest->entry == moving) return {};

  if (moving->is_directory) {
    if (dest->entry && !dest->entry->is_directory) return Fail(Errno::kNotdir);
    if (dest->entry && !dest->entry->children.empty()) return Fail(Errno::kNotempty);
    if (IsWithin(dest->parent, moving)) return Fail(Errno::kInval);
  } else {
    if (dest->entry && dest->entry->is_directory) return Fail(Errno::kIsdir);
    if (to_path->trailing_slash) return Fail(Errno::kNotdir);
  }
  source->parent->children.erase(source->leaf);
  if (dest->entry) dest->entry->removed = true;
  dest->parent->children.insert_or_assign(dest->leaf, moving);
  return {};
}

}  // namespace milf::wasm::wasi
