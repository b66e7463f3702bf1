#include "compiler/source/diagnostics.h"

#include <gtest/gtest.h>

namespace milf::compiler {
namespace {

TEST(DiagnosticsTest, ParsesClangLinesRelativeToTheProject) {
  const auto found = ParseClangStyle(
      "In file included from main.c:2:\n"
      "/compile/src/lib/util.h:3:9: warning: unused variable 'x' [-Wunused-variable]\n"
      "main.c:10:5: error: use of undeclared identifier 'y'\n"
      "    y = 1;\n    ^\n"
      "/usr/include/wasm32-wasi/stdio.h:1:1: note: declared here\n"
      "2 errors generated.\n",
      "/compile/src");
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].file, "lib/util.h");
  EXPECT_EQ(found[0].line, 3);
  EXPECT_EQ(found[0].column, 9);
  EXPECT_EQ(found[0].severity, "warning");
  EXPECT_EQ(found[0].message, "unused variable 'x' [-Wunused-variable]");
  EXPECT_EQ(found[1].file, "main.c");
  EXPECT_EQ(found[1].severity, "error");
  EXPECT_EQ(found[2].file, "/usr/include/wasm32-wasi/stdio.h");
  EXPECT_EQ(found[2].severity, "note");
}

TEST(DiagnosticsTest, ParsesLinkerAndFatalErrors) {
  const auto found = ParseClangStyle(
      "wasm-ld: error: /compile/out/a.o: undefined symbol: missing\n"
      "main.c:1:10: fatal error: 'nope.h' file not found\n"
      "clang: error: linker command failed with exit code 1 (use -v to see invocation)\n",
      "/compile/src");
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].file, "");
  EXPECT_EQ(found[0].message, "/compile/out/a.o: undefined symbol: missing");
  EXPECT_EQ(found[1].severity, "error");
  EXPECT_EQ(found[1].column, 10);
  EXPECT_EQ(found[2].file, "");
}

TEST(DiagnosticsTest, ParsesRustShortFormat) {
  const auto found = ParseClangStyle(
      "main.rs:2:18: error[E0308]: mismatched types\n"
      "error: aborting due to previous error\n"
      "For more information about this error, try `rustc --explain E0308`.\n",
      "/compile/src");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].file, "main.rs");
  EXPECT_EQ(found[0].line, 2);
  EXPECT_EQ(found[0].column, 18);
  EXPECT_EQ(found[0].severity, "error");
  EXPECT_EQ(found[0].message, "mismatched types [E0308]");
}

TEST(DiagnosticsTest, ParsesAssemblyScript) {
  const auto found = ParseAssemblyScript(
      "WARNING AS235: Only variables, functions and enums become WebAssembly module exports.\n"
      "   :\n 1 │ export class A {}\n   │              ~\n   └─ in /compile/src/index.ts(1,14)\n\n"
      "ERROR TS2322: Type '~lib/string/String' is not assignable to type 'i32'.\n"
      "   :\n 2 │ let b: i32 = \"x\";\n   │              ~~~\n   └─ in index.ts(2,14)\n\n"
      "FAILURE 1 compile error(s)\n",
      "/compile/src");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].severity, "warning");
  EXPECT_EQ(found[0].file, "index.ts");
  EXPECT_EQ(found[1].severity, "error");
  EXPECT_EQ(found[1].line, 2);
  EXPECT_EQ(found[1].column, 14);
  EXPECT_EQ(found[1].message,
            "Type '~lib/string/String' is not assignable to type 'i32'. [TS2322]");
}

TEST(DiagnosticsTest, FormatsLikeACompiler) {
  EXPECT_EQ(FormatDiagnostic({"main.c", 3, 14, "error", "expected expression"}),
            "main.c:3:14: error: expected expression");
  EXPECT_EQ(FormatDiagnostic({"", 0, 0, "error", "undefined symbol: f"}),
            "error: undefined symbol: f");
}

}  // namespace
}  // namespace milf::compiler
