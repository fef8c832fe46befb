package io.idemnet.backend;

import io.idemnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * One call of every {@link Backend} operation that takes two or more tensors, with argument
 * shapes chosen so that as many argument pairs as possible could be the same tensor. The
 * aliasing contract ({@link BackendVsReferenceContract}) passes one tensor for two arguments and
 * checks that the call is either refused or gives what it gives on separate copies.
 */
final class AliasingCases {
  private AliasingCases() {}

  /** How the operation uses an argument. */
  enum Role {
    /** read only */
    IN,
    /** written without being read */
    OUT,
    /** read and written (accumulated into, updated in place) */
    INOUT;

    boolean written() {
      return this != IN;
    }
  }

  /** An argument: its name, role and shape; {@code positive} draws its values from [0.5, 1.5] (variances, invstd). */
  record Slot(String name, Role role, boolean positive, int... shape) {}

  /** Runs the operation on the given arguments (in slot order); returns its scalar result, or NaN. */
  interface Call {
    double run(Backend be, Tensor[] args);
  }

  /** {@code op} is the Backend method's name; {@code label} tells variants apart. */
  record Case(String op, String label, List<Slot> slots, Call call) {
    @Override
    public String toString() {
      return label;
    }
  }

  private static Slot in(String name, int... shape) {
    return new Slot(name, Role.IN, false, shape);
  }

  private static Slot positive(String name, Role role, int... shape) {
    return new Slot(name, role, true, shape);
  }

  private static Slot out(String name, int... shape) {
    return new Slot(name, Role.OUT, false, shape);
  }

  private static Slot inout(String name, int... shape) {
    return new Slot(name, Role.INOUT, false, shape);
  }

  private static Case of(String op, String label, Call call, Slot... slots) {
    return new Case(op, label, List.of(slots), call);
  }

  static List<Case> all() {
    List<Case> cases = new ArrayList<>();
    int[] m = {3, 4};
    int[] sq = {3, 3};
    cases.add(of("copy", "copy", (be, t) -> {
      be.copy(t[0], t[1]);
      return Double.NaN;
    }, in("src", m), out("dst", m)));
    cases.add(of("reshapeCopy", "reshapeCopy", (be, t) -> {
      be.reshapeCopy(t[0], t[1]);
      return Double.NaN;
    }, in("src", m), out("dst", m)));
    for (boolean ta : new boolean[] {false, true}) {
      for (boolean tb : new boolean[] {false, true}) {
        cases.add(of("gemm", "gemm ta=" + ta + " tb=" + tb, (be, t) -> {
          be.gemm(ta, tb, 1.25f, t[0], t[1], 0.5f, t[2]);
          return Double.NaN;
        }, in("a", sq), in("b", sq), inout("c", sq)));
      }
    }
    cases.add(of("gemm", "gemm beta=0", (be, t) -> {
      be.gemm(false, false, 1f, t[0], t[1], 0f, t[2]);
      return Double.NaN;
    }, in("a", sq), in("b", sq), out("c", sq)));
    cases.add(of("gemmBatched", "gemmBatched", (be, t) -> {
      be.gemmBatched(false, true, 1f, t[0], t[1], 0.5f, t[2]);
      return Double.NaN;
    }, in("a", 2, 3, 3), in("b", 2, 3, 3), inout("c", 2, 3, 3)));
    cases.add(of("addBias", "addBias 2-D", (be, t) -> {
      be.addBias(t[0], t[1], t[2]);
      return Double.NaN;
    }, in("x", m), in("bias", 4), out("out", m)));
    cases.add(of("addBias", "addBias 1-D", (be, t) -> {
      be.addBias(t[0], t[1], t[2]);
      return Double.NaN;
    }, in("x", 4), in("bias", 4), out("out", 4)));
    cases.add(of("add", "add", (be, t) -> {
      be.add(t[0], t[1], t[2]);
      return Double.NaN;
    }, in("a", m), in("b", m), out("out", m)));
    cases.add(of("sub", "sub", (be, t) -> {
      be.sub(t[0], t[1], t[2]);
      return Double.NaN;
    }, in("a", m), in("b", m), out("out", m)));
    cases.add(of("mul", "mul", (be, t) -> {
      be.mul(t[0], t[1], t[2]);
      return Double.NaN;
    }, in("a", m), in("b", m), out("out", m)));
    cases.add(of("scale", "scale", (be, t) -> {
      be.scale(t[0], -0.75f, t[1]);
      return Double.NaN;
    }, in("x", m), out("out", m)));
    cases.add(of("axpy", "axpy", (be, t) -> {
      be.axpy(1.5f, t[0], t[1]);
      return Double.NaN;
    }, in("x", m), inout("y", m)));
    for (Activation act : new Activation[] {Activation.IDENTITY, Activation.RELU, Activation.leakyRelu(0.2f),
        Activation.TANH, Activation.SIGMOID}) {
      cases.add(of("activation", "activation " + act, (be, t) -> {
        be.activation(act, t[0], t[1]);
        return Double.NaN;
      }, in("x", m), out("y", m)));
      cases.add(of("activationBackward", "activationBackward " + act, (be, t) -> {
        be.activationBackward(act, t[0], t[1], t[2], t[3]);
        return Double.NaN;
      }, in("x", m), in("y", m), in("dy", m), out("dx", m)));
    }
    for (boolean accumulate : new boolean[] {false, true}) {
      cases.add(of("sumRows", "sumRows accumulate=" + accumulate, (be, t) -> {
        be.sumRows(t[0], t[1], accumulate);
        return Double.NaN;
      }, in("x", 4), accumulate ? inout("out", 4) : out("out", 4)));
    }
    for (boolean withLoss : new boolean[] {false, true}) {
      cases.add(of("corrector", "corrector withLoss=" + withLoss,
          (be, t) -> be.corrector(-0.5f, t[0], t[1], t[2], t[3], withLoss),
          in("a", m), in("b", m), in("c", m), out("out", m)));
    }
    // Convolutions with every 4-D argument [2, 2, 3, 3] (3x3 kernels, padding 1), so each pair can alias.
    int[] img = {2, 2, 3, 3};
    ConvSpec same = ConvSpec.of(1, 1);
    cases.add(of("conv2d", "conv2d", (be, t) -> {
      be.conv2d(t[0], t[1], t[2], same, t[3]);
      return Double.NaN;
    }, in("x", img), in("weight", img), in("bias", 2), out("y", img)));
    cases.add(of("conv2dBackward", "conv2dBackward", (be, t) -> {
      be.conv2dBackward(t[0], t[1], t[2], same, t[3], t[4], true, t[5], true);
      return Double.NaN;
    }, in("x", img), in("weight", img), in("dy", img), out("dx", img), inout("dWeight", img), inout("dBias", 2)));
    cases.add(of("convTranspose2d", "convTranspose2d", (be, t) -> {
      be.convTranspose2d(t[0], t[1], t[2], same, t[3]);
      return Double.NaN;
    }, in("x", img), in("weight", img), in("bias", 2), out("y", img)));
    cases.add(of("convTranspose2dBackward", "convTranspose2dBackward", (be, t) -> {
      be.convTranspose2dBackward(t[0], t[1], t[2], same, t[3], t[4], true, t[5], true);
      return Double.NaN;
    }, in("x", img), in("weight", img), in("dy", img), out("dx", img), inout("dWeight", img), inout("dBias", 2)));
    // x [N, C, ...] and out [C] never have one shape: listed so that the coverage check sees the op.
    cases.add(of("channelSums", "channelSums", (be, t) -> {
      be.channelSums(t[0], t[1], true);
      return Double.NaN;
    }, in("x", 2, 3, 2, 2), inout("out", 3)));
    int[] bn = {2, 3, 2, 2};
    cases.add(of("batchNorm2d", "batchNorm2d training", (be, t) -> {
      be.batchNorm2d(t[0], t[1], t[2], t[3], t[4], true, 0.1f, 1e-5f, t[5], t[6], t[7]);
      return Double.NaN;
    }, in("x", bn), in("gamma", 3), in("beta", 3), inout("runningMean", 3), positive("runningVar", Role.INOUT, 3),
        out("y", bn), out("saveMean", 3), out("saveInvstd", 3)));
    cases.add(of("batchNorm2d", "batchNorm2d evaluation", (be, t) -> {
      be.batchNorm2d(t[0], t[1], t[2], t[3], t[4], false, 0.1f, 1e-5f, t[5], t[6], t[7]);
      return Double.NaN;
    }, in("x", bn), in("gamma", 3), in("beta", 3), in("runningMean", 3), positive("runningVar", Role.IN, 3),
        out("y", bn), out("saveMean", 3), out("saveInvstd", 3)));
    for (boolean training : new boolean[] {true, false}) {
      cases.add(of("batchNorm2dBackward", "batchNorm2dBackward training=" + training, (be, t) -> {
        be.batchNorm2dBackward(t[0], t[1], t[2], t[3], t[4], training, t[5], t[6], true, t[7], false);
        return Double.NaN;
      }, in("x", bn), in("dy", bn), in("gamma", 3), in("saveMean", 3), positive("saveInvstd", Role.IN, 3),
          out("dx", bn), inout("dGamma", 3), out("dBeta", 3)));
    }
    cases.add(of("dropout", "dropout", (be, t) -> {
      be.dropout(t[0], 0.3f, 7, t[1]);
      return Double.NaN;
    }, in("x", m), out("y", m)));
    cases.add(of("dropoutBackward", "dropoutBackward", (be, t) -> {
      be.dropoutBackward(t[0], 0.3f, 7, t[1]);
      return Double.NaN;
    }, in("dy", m), out("dx", m)));
    cases.add(of("sgdUpdate", "sgdUpdate plain", (be, t) -> {
      be.sgdUpdate(t[0], t[1], null, 0.1f, 0f, 0.01f);
      return Double.NaN;
    }, inout("w", m), in("g", m)));
    cases.add(of("sgdUpdate", "sgdUpdate momentum", (be, t) -> {
      be.sgdUpdate(t[0], t[1], t[2], 0.1f, 0.9f, 0.01f);
      return Double.NaN;
    }, inout("w", m), in("g", m), inout("velocity", m)));
    cases.add(of("adamUpdate", "adamUpdate", (be, t) -> {
      be.adamUpdate(t[0], t[1], t[2], t[3], 0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, 3);
      return Double.NaN;
    }, inout("w", m), in("g", m), inout("m", m), positive("v", Role.INOUT, m)));
    // Device-resident step operations: one-element tensors ([1]) where the op reads or writes a
    // scalar, so those arguments can alias one another.
    cases.add(of("scale", "scale by a factor", (be, t) -> {
      be.scale(t[0], t[1], 0.5f, t[2]);
      return Double.NaN;
    }, in("x", 1), in("factor", 1), out("out", 1)));
    cases.add(of("sumOfSquares", "sumOfSquares to a tensor", (be, t) -> {
      be.sumOfSquares(t[0], 0.5, t[1]);
      return Double.NaN;
    }, in("x", 1), out("out", 1)));
    cases.add(of("corrector", "corrector with a loss tensor", (be, t) -> {
      be.corrector(-0.5f, t[0], t[1], t[2], t[3], 0.25, t[4]);
      return Double.NaN;
    }, in("a", 1), in("b", 1), in("c", 1), out("out", 1), out("loss", 1)));
    cases.add(of("l1Loss", "l1Loss", (be, t) -> {
      be.l1Loss(t[0], t[1], 0.5f, t[2], 0.25, t[3]);
      return Double.NaN;
    }, in("a", 1), in("b", 1), out("grad", 1), out("loss", 1)));
    cases.add(of("softmaxCrossEntropy", "softmaxCrossEntropy", (be, t) -> {
      be.softmaxCrossEntropy(t[0], t[1], t[2], t[3]);
      return Double.NaN;
    }, in("logits", 1, 1), in("labels", 1), out("loss", 1), out("grad", 1, 1)));
    cases.add(of("maxRowNorm", "maxRowNorm", (be, t) -> {
      be.maxRowNorm(t[0], t[1]);
      return Double.NaN;
    }, in("x", 1), out("out", 1)));
    cases.add(of("tightClampWeights", "tightClampWeights", (be, t) -> {
      be.tightClampWeights(t[0], t[1], 20f, 2.5f, 1.5f, t[2], t[3]);
      return Double.NaN;
    }, positive("rec", Role.IN, 1), positive("tight", Role.IN, 1), out("weightRec", 1), out("weightTight", 1)));
    cases.add(of("dropout", "dropout with a counter", (be, t) -> {
      be.dropout(t[0], 0.3f, 7, t[1], 5, t[2]);
      return Double.NaN;
    }, in("x", 2), positive("counter", Role.IN, 2), out("y", 2)));
    cases.add(of("sgdUpdate", "sgdUpdate scheduled", (be, t) -> {
      be.sgdUpdate(t[0], t[1], t[2], t[3], 0.9f, 0.01f);
      return Double.NaN;
    }, inout("w", 1), in("g", 1), inout("velocity", 1), positive("lr", Role.IN, 1)));
    cases.add(of("adamUpdate", "adamUpdate scheduled", (be, t) -> {
      be.adamUpdate(t[0], t[1], t[2], t[3], t[4], 0.9f, 0.999f, 1e-8f, 0.01f);
      return Double.NaN;
    }, inout("w", 2), in("g", 2), inout("m", 2), positive("v", Role.INOUT, 2), positive("coefficients", Role.IN, 2)));
    // Anderson: every tensor [1, 1] (a one-slot history of a 1 x 1 iterate), so every pair can alias.
    cases.add(of("andersonRecord", "andersonRecord", (be, t) -> {
      be.andersonRecord(t[0], t[1], 0, t[2], t[3], t[4]);
      return Double.NaN;
    }, in("u", 1, 1), in("t", 1, 1), out("images", 1, 1), out("residuals", 1, 1), out("norm", 1, 1)));
    cases.add(of("andersonMix", "andersonMix", (be, t) -> {
      be.andersonMix(t[0], t[1], 1, 0, t[2]);
      return Double.NaN;
    }, in("images", 1, 1), in("residuals", 1, 1), out("next", 1, 1)));
    return cases;
  }
}
