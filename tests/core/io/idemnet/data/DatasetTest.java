package io.idemnet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.data.Dataset.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

class DatasetTest {
  /** n samples of 2 x 1 x 2; sample i holds i, i + 0.25, i + 0.5, i + 0.75 and has label i % 3. */
  private static Dataset data(int n) {
    float[] x = new float[n * 4];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < 4; k++) x[i * 4 + k] = i + k * 0.25f;
      y[i] = i % 3;
    }
    return new Dataset(x, y, 2, 1, 2);
  }

  /** The sample order of one epoch, checking that each batch's buffers agree with its indices. */
  private static List<Integer> epoch(Dataset d, Iterable<Batch> batches, int batchSize) {
    List<Integer> order = new ArrayList<>();
    Batch previous = null;
    int number = 0;
    for (Batch b : batches) {
      if (previous != null) assertSame(previous, b, "the batch object is reused");
      previous = b;
      assertEquals(number++, b.number());
      assertEquals(batchSize, b.capacity());
      assertTrue(b.size() > 0 && b.size() <= batchSize);
      for (int j = 0; j < b.size(); j++) {
        int i = b.indices()[j];
        order.add(i);
        assertEquals(d.label(i), b.labels()[j]);
        assertArrayEquals(d.image(i), Arrays.copyOfRange(b.images(), j * 4, j * 4 + 4));
      }
    }
    return order;
  }

  @Test
  void shuffledBatchesCoverEverySampleOnceInASeededOrder() {
    Dataset d = data(103);
    Dataset.Batches batches = d.batches(10, 42);
    assertEquals(11, batches.count());
    List<Integer> first = epoch(d, batches, 10);
    assertEquals(103, first.size());
    List<Integer> sorted = new ArrayList<>(first);
    sorted.sort(null);
    for (int i = 0; i < 103; i++) assertEquals(i, sorted.get(i));
    assertNotEquals(sorted, first, "shuffled");

    assertEquals(first, epoch(d, batches, 10), "a second pass repeats the order");
    assertEquals(first, epoch(d, d.batches(10, 42), 10), "the same seed repeats the order");
    assertEquals(first, Arrays.stream(batches.order()).boxed().toList());
    assertNotEquals(first, epoch(d, d.batches(10, 43), 10), "another seed, another order");
    // The batch size does not change the order, only where it is cut.
    assertEquals(first, epoch(d, d.batches(7, 42), 7));
  }

  @Test
  void lastBatchAndDropLast() {
    Dataset d = data(25);
    List<Integer> sizes = new ArrayList<>();
    for (Batch b : d.batches(10, 1)) sizes.add(b.size());
    assertEquals(List.of(10, 10, 5), sizes);

    Dataset.Batches dropped = d.batches(10, 1, true);
    assertEquals(2, dropped.count());
    List<Integer> order = epoch(d, dropped, 10);
    assertEquals(20, order.size());
    assertEquals(order, epoch(d, d.batches(10, 1), 10).subList(0, 20));

    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), epoch(d.subset(0, 12), d.subset(0, 12).batchesInOrder(5), 5));

    Iterator<Batch> it = d.batches(25, 0).iterator();
    it.next();
    assertFalse(it.hasNext());
    assertThrows(NoSuchElementException.class, it::next);
    assertFalse(d.subset(0, 0).batches(4, 0).iterator().hasNext());
    assertThrows(IllegalArgumentException.class, () -> d.batches(0, 0));
  }

  @Test
  void normalizationAndSubsets() {
    Dataset d = new Dataset(new float[] {0f, 0.5f, 1f, 0.25f, 1f, 0f, 0.75f, 0.5f}, new int[] {1, 2}, 2, 1, 2);
    assertArrayEquals(new float[] {-1f, 0f, 1f, -0.5f, 1f, -1f, 0.5f, 0f}, d.toPlusMinusOne().images());
    assertArrayEquals(new float[] {-1f, 0f, 1f, -0.5f, 1f, -1f, 0.5f, 0f}, d.normalized(0.5f, 0.5f).images());
    // Per channel: channel 0 (mean 0, std 1), channel 1 (mean 1, std 0.5).
    Dataset n = d.normalized(new float[] {0f, 1f}, new float[] {1f, 0.5f});
    assertArrayEquals(new float[] {0f, 0.5f, 0f, -1.5f, 1f, 0f, -0.5f, -1f}, n.images());
    assertArrayEquals(new int[] {1, 2}, n.labels());
    assertArrayEquals(new float[] {0f, 0.5f, 1f, 0.25f, 1f, 0f, 0.75f, 0.5f}, d.images(), "the original is unchanged");
    assertThrows(IllegalArgumentException.class, () -> d.normalized(0f, 0f));
    assertThrows(IllegalArgumentException.class, () -> d.normalized(new float[] {0f}, new float[] {1f}));

    assertEquals(0.5, d.mean(), 1e-12);
    Dataset s = data(10).subset(new int[] {7, 2, 7});
    assertArrayEquals(new int[] {1, 2, 1}, s.labels());
    assertArrayEquals(new float[] {7f, 7.25f, 7.5f, 7.75f}, s.image(2));
    assertArrayEquals(new int[] {3, 2, 1, 2}, s.shape());
    assertArrayEquals(new int[] {4, 3, 3}, data(10).labelCounts());
    Dataset balanced = data(10).firstPerClass(2);
    assertArrayEquals(new int[] {0, 1, 2, 0, 1, 2}, balanced.labels());
    assertArrayEquals(new float[] {5f, 5.25f, 5.5f, 5.75f}, balanced.image(5));
    assertArrayEquals(new float[] {8f, 8.25f, 8.5f, 8.75f}, data(10).subset(8, 10).image(0));
    assertThrows(IndexOutOfBoundsException.class, () -> data(10).subset(5, 11));
    assertThrows(IndexOutOfBoundsException.class, () -> data(10).image(10));
    assertEquals("Dataset[10 x 2 x 1 x 2]", data(10).toString());
  }

  @Test
  void constructorChecksTheShape() {
    assertThrows(IllegalArgumentException.class, () -> new Dataset(new float[7], new int[2], 2, 1, 2));
    assertThrows(IllegalArgumentException.class, () -> new Dataset(new float[0], new int[0], 0, 1, 2));
    assertThrows(NullPointerException.class, () -> new Dataset(null, new int[0], 1, 1, 1));
  }
}
