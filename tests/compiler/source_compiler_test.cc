// The compiler service end to end: each language compiles in the jail and
// the module runs under `milf run`; errors come back located; hostile
// sources stay inside the jail; a runaway compile is stopped; the cache
// answers repeats.
#include "compiler/source/source_compiler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/subprocess.h"

namespace milf::compiler {
namespace {

namespace fs = std::filesystem;

const std::string kMilf = std::string(MILF_BINARY_DIR) + "/bin/milf";

class SourceCompilerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() /
                        ("milf-compiler-test-" + std::to_string(::getpid())));
    auto created = SourceCompiler::Create(Options("shared", 60'000));
    ASSERT_TRUE(created) << created.error().message;
    compiler_ = created->release();
  }

  // The machine may be busy: only the runaway test uses a short limit.
  static SourceCompilerOptions Options(const std::string& name, std::int64_t wall_ms) {
    SourceCompilerOptions options;
    options.toolchain = DefaultToolchain();
    options.cache_dir = (*dir_ / name / "cache").string();
    options.scratch_dir = (*dir_ / name / "scratch").string();
    options.wall_ms = wall_ms;
    options.cpu_seconds = 30;
    return options;
  }
  static void TearDownTestSuite() {
    delete compiler_;
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }

  static CompileOutput MustCompile(const std::string& filename, const std::string& text) {
    auto project = SingleFileProject(filename, text);
    EXPECT_TRUE(project) << project.error().message;
    auto output = compiler_->Compile(*project);
    EXPECT_TRUE(output) << output.error().message;
    return output ? std::move(*output) : CompileOutput{};
  }

  // What `milf run` prints for the module.
  static std::string RunModule(const std::vector<std::uint8_t>& wasm) {
    const fs::path path = *dir_ / "module.wasm";
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(wasm.data()),
               static_cast<std::streamsize>(wasm.size()));
    auto ran = testing::RunProcess({kMilf, "run", path.string()}, "");
    EXPECT_TRUE(ran);
    if (!ran) return "";
    EXPECT_EQ(ran->exit_code, 0) << ran->err;
    return ran->out;
  }

  static std::string Errors(const CompileOutput& output) {
    std::string text;
    for (const Diagnostic& d : output.diagnostics) text += FormatDiagnostic(d) + "\n";
    return text;
  }

  static fs::path* dir_;
  static SourceCompiler* compiler_;
};

fs::path* SourceCompilerTest::dir_ = nullptr;
SourceCompiler* SourceCompilerTest::compiler_ = nullptr;

TEST_F(SourceCompilerTest, CompilesAndRunsC) {
  const CompileOutput output =
      MustCompile("hello.c",
                  "#include <stdio.h>\n#include <milf.h>\n"
                  "int main(void) { printf(\"hello from c\\n\"); return 0; }\n");
  ASSERT_TRUE(output.ok) << Errors(output);
  EXPECT_EQ(output.language, Language::kC);
  EXPECT_EQ(RunModule(output.wasm), "hello from c\n");
}

TEST_F(SourceCompilerTest, CompilesAndRunsCxxWithLibcxx) {
  const CompileOutput output =
      MustCompile("hello.cpp",
                  "#include <string>\n#include <vector>\n#include <cstdio>\n"
                  "int main() { std::vector<std::string> words{\"hello\", \"from\", \"c++\"};\n"
                  "  std::string line; for (const auto& w : words) line += w + ' ';\n"
                  "  std::puts(line.c_str()); }\n");
  ASSERT_TRUE(output.ok) << Errors(output);
  EXPECT_EQ(output.language, Language::kCxx);
  EXPECT_EQ(RunModule(output.wasm), "hello from c++ \n");
}

TEST_F(SourceCompilerTest, CompilesAndRunsRust) {
  if (!compiler_->Available(Language::kRust)) GTEST_SKIP() << "rustc for wasm32-wasi missing";
  const CompileOutput output = MustCompile(
      "main.rs", "fn main() { let n: u64 = (1..=10).sum(); println!(\"sum {}\", n); }\n");
  ASSERT_TRUE(output.ok) << Errors(output);
  EXPECT_EQ(RunModule(output.wasm), "sum 55\n");
}

TEST_F(SourceCompilerTest, CompilesAndRunsAssemblyScript) {
  if (auto available = compiler_->Available(Language::kAssemblyScript); !available) {
    GTEST_SKIP() << available.error().message;
  }
  const CompileOutput output =
      MustCompile("index.ts", "const n: i32 = 6 * 7;\nconsole.log(\"answer \" + n.toString());\n");
  ASSERT_TRUE(output.ok) << Errors(output);
  EXPECT_EQ(RunModule(output.wasm), "answer 42\n");
}

TEST_F(SourceCompilerTest, CErrorComesBackWithLineAndColumn) {
  const CompileOutput output =
      MustCompile("broken.c", "int main(void) {\n  int x = 1;\n  return x +* ;\n}\n");
  ASSERT_FALSE(output.ok);
  ASSERT_FALSE(output.diagnostics.empty());
  const Diagnostic& first = output.diagnostics.front();
  EXPECT_EQ(first.file, "broken.c");
  EXPECT_EQ(first.line, 3);
  EXPECT_EQ(first.column, 15);
  EXPECT_EQ(first.severity, "error");
  EXPECT_EQ(first.message, "expected expression");
}

TEST_F(SourceCompilerTest, WarningsAccompanyASuccess) {
  const CompileOutput output =
      MustCompile("warn.c", "int main(void) {\n  int unused;\n  return 0;\n}\n");
  ASSERT_TRUE(output.ok) << Errors(output);
  ASSERT_EQ(output.diagnostics.size(), 1u) << Errors(output);
  EXPECT_EQ(output.diagnostics[0].severity, "warning");
  EXPECT_EQ(output.diagnostics[0].line, 2);
  EXPECT_EQ(output.diagnostics[0].column, 7);
}

TEST_F(SourceCompilerTest, RustErrorComesBackWithLineAndColumn) {
  if (!compiler_->Available(Language::kRust)) GTEST_SKIP() << "rustc for wasm32-wasi missing";
  const CompileOutput output = MustCompile("main.rs", "fn main() {\n    let x: i32 = \"a\";\n}\n");
  ASSERT_FALSE(output.ok);
  ASSERT_FALSE(output.diagnostics.empty());
  EXPECT_EQ(output.diagnostics[0].file, "main.rs");
  EXPECT_EQ(output.diagnostics[0].line, 2);
  EXPECT_EQ(output.diagnostics[0].column, 18);
  EXPECT_EQ(output.diagnostics[0].severity, "error");
}

TEST_F(SourceCompilerTest, AssemblyScriptErrorComesBackWithLineAndColumn) {
  if (!compiler_->Available(Language::kAssemblyScript)) GTEST_SKIP() << "asc missing";
  const CompileOutput output = MustCompile("index.ts", "let a: i32 = 1;\nlet b: i32 = \"x\";\n");
  ASSERT_FALSE(output.ok);
  ASSERT_FALSE(output.diagnostics.empty());
  EXPECT_EQ(output.diagnostics[0].file, "index.ts");
  EXPECT_EQ(output.diagnostics[0].line, 2);
  EXPECT_EQ(output.diagnostics[0].column, 14);
  EXPECT_EQ(output.diagnostics[0].severity, "error");
}

TEST_F(SourceCompilerTest, HostFilesAreNotInTheJail) {
  const CompileOutput output =
      MustCompile("peek.c", "#include \"/etc/passwd\"\nint main(void) { return 0; }\n");
  ASSERT_FALSE(output.ok);
  ASSERT_FALSE(output.diagnostics.empty());
  EXPECT_EQ(output.diagnostics[0].line, 1);
  EXPECT_NE(output.diagnostics[0].message.find("not found"), std::string::npos) << Errors(output);
}

TEST_F(SourceCompilerTest, HostHeadersAreNotOnTheIncludePath) {
  // glibc's headers live in /usr/include, which is in the jail but not
  // searched: only the SDK, wasi-libc and clang's headers are.
  const CompileOutput output =
      MustCompile("glibc.c", "#include <gnu/libc-version.h>\nint main(void) { return 0; }\n");
  ASSERT_FALSE(output.ok);
  EXPECT_NE(Errors(output).find("file not found"), std::string::npos) << Errors(output);
}

TEST_F(SourceCompilerTest, SelfIncludeEndsInAnError) {
  const CompileOutput output =
      MustCompile("self.c", "#include \"self.c\"\nint main(void) { return 0; }\n");
  ASSERT_FALSE(output.ok);
  EXPECT_TRUE(HasErrors(output.diagnostics));
}

TEST_F(SourceCompilerTest, RunawayCompileIsStoppedAtItsLimit) {
  // Each macro level doubles the tokens: 2^40 of them never finish.
  std::string text = "#define L0 x\n";
  for (int level = 1; level <= 40; ++level) {
    text += "#define L" + std::to_string(level) + " L" + std::to_string(level - 1) + " L" +
            std::to_string(level - 1) + "\n";
  }
  text += "int main(void) { L40; }\n";
  auto compiler = SourceCompiler::Create(Options("runaway", 1'500));
  ASSERT_TRUE(compiler) << compiler.error().message;
  auto output = (*compiler)->Compile(*SingleFileProject("bomb.c", text));
  ASSERT_TRUE(output) << output.error().message;
  ASSERT_FALSE(output->ok);
  ASSERT_FALSE(output->diagnostics.empty());
  EXPECT_EQ(output->diagnostics.back().message,
            "the compiler was stopped after 1500 ms (time limit)");
}

TEST_F(SourceCompilerTest, RepeatsAreServedFromTheCache) {
  const std::string text = "#include <stdio.h>\nint main(void) { puts(\"cached\"); return 0; }\n";
  const CompileOutput first = MustCompile("cached.c", text);
  ASSERT_TRUE(first.ok) << Errors(first);
  const CompileOutput second = MustCompile("cached.c", text);
  ASSERT_TRUE(second.ok);
  EXPECT_TRUE(second.cached);
  EXPECT_EQ(second.wasm, first.wasm);
  const CompileOutput changed = MustCompile("cached.c", text + "\n");
  EXPECT_FALSE(changed.cached);
}

TEST_F(SourceCompilerTest, ArchiveProjectLinksEveryTranslationUnit) {
  Project project;
  project.language = Language::kC;
  project.entry = "main.c";
  project.files = {{"lib/add.c", "#include \"add.h\"\nint add(int a, int b) { return a + b; }\n"},
                   {"lib/add.h", "int add(int a, int b);\n"},
                   {"main.c",
                    "#include <stdio.h>\n#include \"lib/add.h\"\n"
                    "int main(void) { printf(\"%d\\n\", add(2, 3)); return 0; }\n"}};
  auto output = compiler_->Compile(project);
  ASSERT_TRUE(output) << output.error().message;
  ASSERT_TRUE(output->ok) << Errors(*output);
  EXPECT_EQ(RunModule(output->wasm), "5\n");
}

}  // namespace
}  // namespace milf::compiler
