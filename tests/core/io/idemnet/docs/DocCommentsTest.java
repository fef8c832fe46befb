package io.idemnet.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.source.tree.ClassTree;
import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.Tree;
import com.sun.source.tree.VariableTree;
import com.sun.source.util.DocTrees;
import com.sun.source.util.JavacTask;
import com.sun.source.util.TreePath;
import com.sun.source.util.TreePathScanner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.lang.model.element.Modifier;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * Every public type, constructor, method and field of the core library (in a public type) has a
 * doc comment; methods marked {@code @Override} inherit theirs. The javadoc build
 * (maven-javadoc-plugin, doclint all but "missing") checks the comments' form; doclint's
 * "missing" group is off there because it also demands @param/@return tags where a description
 * already says it all (docs/decisions/javadoc.md), so this test does the "has a comment" part by
 * parsing the sources (fast: no HTML is generated).
 */
class DocCommentsTest {
  @Test
  void everyPublicDeclarationOfTheCoreHasADocComment() throws IOException {
    List<Path> sources;
    try (Stream<Path> s = Files.walk(Path.of("java/core/src"))) {
      sources = s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
    }
    assertTrue(sources.size() > 50, "found the core sources: " + sources.size());
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    List<String> undocumented = new ArrayList<>();
    int[] checked = {0};
    try (StandardJavaFileManager files = javac.getStandardFileManager(null, null, null)) {
      Iterable<? extends JavaFileObject> units = files.getJavaFileObjectsFromPaths(sources);
      JavacTask task = (JavacTask) javac.getTask(null, files, null, List.of("-proc:none"), null, units);
      DocTrees docs = DocTrees.instance(task);
      for (CompilationUnitTree unit : task.parse()) {
        new TreePathScanner<Void, Void>() {
          @Override
          public Void visitClass(ClassTree t, Void v) {
            if (!isPublic(t.getModifiers().getFlags())) return null; // nothing inside a non-public type is API
            require(t.getSimpleName().toString());
            return super.visitClass(t, v);
          }

          @Override
          public Void visitMethod(MethodTree t, Void v) {
            boolean override = t.getModifiers().getAnnotations().stream()
                .anyMatch(a -> a.getAnnotationType().toString().equals("Override"));
            if (isPublic(t.getModifiers().getFlags()) && !override && !isCompactRecordConstructor(t)) {
              require(t.getName().toString());
            }
            return null; // no API inside method bodies
          }

          @Override
          public Void visitVariable(VariableTree t, Void v) {
            if (isPublic(t.getModifiers().getFlags()) && getCurrentPath().getParentPath().getLeaf() instanceof ClassTree c
                && c.getKind() != Tree.Kind.RECORD) {
              require(t.getName().toString());
            }
            return null;
          }

          private boolean isPublic(java.util.Set<Modifier> flags) {
            return flags.contains(Modifier.PUBLIC) || isInterfaceMember();
          }

          private boolean isInterfaceMember() {
            TreePath parent = getCurrentPath().getParentPath();
            return parent != null && parent.getLeaf().getKind() == Tree.Kind.INTERFACE;
          }

          /** A compact canonical constructor ({@code Name { ... }}): the record's own comment documents it. */
          private boolean isCompactRecordConstructor(MethodTree t) {
            if (!t.getName().contentEquals("<init>") || t.getBody() == null) return false;
            long start = docs.getSourcePositions().getStartPosition(unit, t);
            long body = docs.getSourcePositions().getStartPosition(unit, t.getBody());
            try {
              return !unit.getSourceFile().getCharContent(true).subSequence((int) start, (int) body).toString().contains("(");
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          }

          private void require(String name) {
            checked[0]++;
            if (docs.getDocCommentTree(getCurrentPath()) == null) {
              long line = unit.getLineMap().getLineNumber(docs.getSourcePositions().getStartPosition(unit, getCurrentPath().getLeaf()));
              undocumented.add(Path.of(unit.getSourceFile().toUri()).toString().replaceFirst(".*/java/core/src/", "") + ":" + line
                  + " " + name.replace("<init>", "constructor"));
            }
          }
        }.scan(unit, null);
      }
    }
    assertTrue(checked[0] > 300, "checked " + checked[0] + " public declarations");
    assertEquals(List.of(), undocumented, undocumented.size() + " public declarations without a doc comment");
  }
}
