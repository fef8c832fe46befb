package io.idemnet.ign;

import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.nn.ActivationLayer;
import io.idemnet.nn.BatchNorm2d;
import io.idemnet.nn.Conv2d;
import io.idemnet.nn.ConvTranspose2d;
import io.idemnet.nn.Dropout;
import io.idemnet.nn.Module;
import io.idemnet.nn.Sequential;
import java.util.ArrayList;
import java.util.List;

/** The U-Net-free DCGAN-style networks used for Idempotent Generative Networks. */
public final class IgnNetworks {
  private IgnNetworks() {}

  /** The networks `idemnet ign --net` builds, with the image side each one takes. */
  public enum Net {
    /** {@link #mnist}: 28 x 28 images. */
    MNIST(28, IgnTrainer.Lambdas.MNIST),
    /** {@link #celeba64}: 64 x 64 images. */
    CELEBA64(64, IgnTrainer.Lambdas.CELEBA);

    private final int size;
    private final IgnTrainer.Lambdas lambdas;

    Net(int size, IgnTrainer.Lambdas lambdas) {
      this.size = size;
      this.lambdas = lambdas;
    }

    /** The image side (height = width) the network maps to itself. */
    public int imageSize() {
      return size;
    }

    /** The paper's loss weights for this network's data set: MNIST 20/0.1/0.1, CelebA 20/0.006/0.02. */
    public IgnTrainer.Lambdas defaultLambdas() {
      return lambdas;
    }

    /** Builds the network for images of {@code channels} channels, every channel count scaled by {@code width}, weights from {@code seed}. */
    public Sequential build(Backend be, int channels, float width, long seed) {
      return switch (this) {
        case MNIST -> mnist(be, channels, width, seed);
        case CELEBA64 -> celeba64(be, channels, width, seed);
      };
    }

    /** mnist or celeba64. */
    public String cliName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** By {@link #cliName()} (any case). */
    public static Net parse(String name) {
      for (Net n : values()) if (n.cliName().equalsIgnoreCase(name)) return n;
      throw new IllegalArgumentException("unknown IGN network '" + name + "' (mnist or celeba64)");
    }

    /** Throws a clear error unless images of C x H x W fit this network. */
    public void checkImages(int channels, int height, int width) {
      if (height != size || width != size) {
        throw new IllegalArgumentException("the " + cliName() + " network takes " + size + "x" + size + " images; the data has "
            + height + "x" + width + (this == CELEBA64 ? " (load an image folder, which is scaled to 64x64)" : ""));
      }
      if (channels < 1) throw new IllegalArgumentException("images need at least one channel");
    }
  }

  /**
   * The 28x28 network of Table 2 (Jensen &amp; Vicary, after Shocher et al.), shapes for a 1x28x28 input:
   * encoder Conv 4x4/2 64 (14x14), Conv 4x4/2 128 + BN (7x7), Conv 3x3/2 256 + BN (3x3),
   * Conv 3x3 512 + BN (1x1), Conv 3x3 pad 1 512 (the 512x1x1 latent), each followed by
   * LeakyReLU(0.2) and Dropout(0.05) but the last; decoder ConvT 3x3 256 (3x3), ConvT 3x3/2 128
   * (7x7), ConvT 3x3 pad 1 64 (7x7), ConvT 4x4/2 32 (14x14), each + BN + ReLU, then ConvT 4x4/2 1
   * (28x28) + Tanh. {@code width} scales every channel count (1 = the paper's).
   */
  public static Sequential mnist(Backend be, int channels, float width, long seed) {
    int c64 = w(64, width), c128 = w(128, width), c256 = w(256, width), c512 = w(512, width), c32 = w(32, width);
    List<Module> m = new ArrayList<>();
    long s = seed;
    m.add(new Conv2d(be, channels, c64, 4, 2, 1, true, s++));
    encoderTail(m, null, seed + 100);
    m.add(new Conv2d(be, c64, c128, 4, 2, 1, true, s++));
    encoderTail(m, new BatchNorm2d(be, c128), seed + 101);
    m.add(new Conv2d(be, c128, c256, 3, 2, 0, true, s++));
    encoderTail(m, new BatchNorm2d(be, c256), seed + 102);
    m.add(new Conv2d(be, c256, c512, 3, 1, 0, true, s++));
    encoderTail(m, new BatchNorm2d(be, c512), seed + 103);
    m.add(new Conv2d(be, c512, c512, 3, 1, 1, true, s++));
    m.add(new ConvTranspose2d(be, c512, c256, 3, 1, 0, 0, true, s++));
    decoderTail(m, new BatchNorm2d(be, c256));
    m.add(new ConvTranspose2d(be, c256, c128, 3, 2, 0, 0, true, s++));
    decoderTail(m, new BatchNorm2d(be, c128));
    m.add(new ConvTranspose2d(be, c128, c64, 3, 1, 1, 0, true, s++));
    decoderTail(m, new BatchNorm2d(be, c64));
    m.add(new ConvTranspose2d(be, c64, c32, 4, 2, 1, 0, true, s++));
    decoderTail(m, new BatchNorm2d(be, c32));
    m.add(new ConvTranspose2d(be, c32, channels, 4, 2, 1, 0, true, s));
    m.add(new ActivationLayer(Activation.TANH));
    return new Sequential(m);
  }

  /**
   * IGN's DCGAN-style 64x64 network for CelebA-like data (shapes for a C x 64 x 64 input): encoder
   * Conv 4x4/2 pad 1 64 (32x32), Conv 4x4/2 pad 1 128 + BN (16x16), 256 + BN (8x8), 512 + BN (4x4),
   * each followed by LeakyReLU(0.2) and Dropout(0.05) as in {@link #mnist}, then Conv 4x4 valid
   * 512 (the 512x1x1 latent); decoder ConvT 4x4 512 (4x4) + BN + ReLU, ConvT 4x4/2 pad 1 256, 128,
   * 64 (8x8, 16x16, 32x32) each + BN + ReLU, then ConvT 4x4/2 pad 1 C (64x64) + Tanh.
   * {@code width} scales every channel count, the latent's included (1 = the paper's).
   */
  public static Sequential celeba64(Backend be, int channels, float width, long seed) {
    int c64 = w(64, width), c128 = w(128, width), c256 = w(256, width), c512 = w(512, width);
    List<Module> m = new ArrayList<>();
    long s = seed;
    m.add(new Conv2d(be, channels, c64, 4, 2, 1, true, s++));
    encoderTail(m, null, seed + 100);
    m.add(new Conv2d(be, c64, c128, 4, 2, 1, true, s++));
    encoderTail(m, new BatchNorm2d(be, c128), seed + 101);
    m.add(new Conv2d(be, c128, c256, 4, 2, 1, true, s++));
    encoderTail(m, new BatchNorm2d(be, c256), seed + 102);
    m.add(new Conv2d(be, c256, c512, 4, 2, 1, true, s++));
    encoderTail(m, new BatchNorm2d(be, c512), seed + 103);
    m.add(new Conv2d(be, c512, c512, 4, 1, 0, true, s++));
    m.add(new ConvTranspose2d(be, c512, c512, 4, 1, 0, 0, true, s++));
    decoderTail(m, new BatchNorm2d(be, c512));
    m.add(new ConvTranspose2d(be, c512, c256, 4, 2, 1, 0, true, s++));
    decoderTail(m, new BatchNorm2d(be, c256));
    m.add(new ConvTranspose2d(be, c256, c128, 4, 2, 1, 0, true, s++));
    decoderTail(m, new BatchNorm2d(be, c128));
    m.add(new ConvTranspose2d(be, c128, c64, 4, 2, 1, 0, true, s++));
    decoderTail(m, new BatchNorm2d(be, c64));
    m.add(new ConvTranspose2d(be, c64, channels, 4, 2, 1, 0, true, s));
    m.add(new ActivationLayer(Activation.TANH));
    return new Sequential(m);
  }

  /**
   * Where the decoder begins: the index of the first ConvTranspose2d child. Children before it
   * are the encoder, whose output is the latent (C x 1 x 1 in both networks here).
   */
  public static int decoderStart(Sequential f) {
    List<Module> c = f.children();
    for (int i = 0; i < c.size(); i++) if (c.get(i) instanceof ConvTranspose2d) return i;
    throw new IllegalArgumentException("not an encoder-decoder network (no ConvTranspose2d): " + f);
  }

  /** The encoder of f: its children before {@link #decoderStart} (shared modules, not copies; do not close). */
  public static Sequential encoder(Sequential f) {
    return new Sequential(f.children().subList(0, decoderStart(f)));
  }

  /** The decoder of f: its children from {@link #decoderStart} on (shared modules, not copies; do not close). */
  public static Sequential decoder(Sequential f) {
    return new Sequential(f.children().subList(decoderStart(f), f.children().size()));
  }

  private static int w(int c, float width) {
    return Math.max(1, Math.round(c * width));
  }

  private static void encoderTail(List<Module> m, BatchNorm2d bn, long dropoutSeed) {
    if (bn != null) m.add(bn);
    m.add(new ActivationLayer(Activation.leakyRelu(0.2f)));
    m.add(new Dropout(0.05f, dropoutSeed));
  }

  private static void decoderTail(List<Module> m, BatchNorm2d bn) {
    m.add(bn);
    m.add(new ActivationLayer(Activation.RELU));
  }
}
