package io.idemnet.tensor;

/**
 * What a tensor needs of the backend that created it: a name for messages, and the copies between
 * the tensor and Java arrays behind {@link Tensor#toArray}, {@link Tensor#copyTo} and
 * {@link Tensor#copyFrom}. Every {@code Backend} is one, and {@code Backend.of(tensor)} returns a
 * tensor's backend; the interface lives here so that the tensor package does not depend on the
 * backend package.
 */
public interface TensorOwner {
  /** Short lower-case name, for messages: "reference", "cpu", "cuda". */
  String name();

  /** The contents of {@code src} in a new Java array. */
  float[] download(Tensor src);

  /** Copies {@code src} into {@code dst}, which holds exactly {@code src.numel()} values. */
  void download(Tensor src, float[] dst);

  /** Copies {@code src} (exactly {@code dst.numel()} values) into {@code dst}. */
  void upload(float[] src, Tensor dst);
}
