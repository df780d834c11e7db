/* mdl/step_kernel.h — the kernels of mdl/step.h for one type of number,
 * included by it once for float and once for double, with MDL_STEP_REAL the
 * type and MDL_STEP_NAME(x) the name of x for it (mdl_sx, mdl_dx). No
 * include guard, on purpose: include mdl/step.h, not this file. */

#define REAL MDL_STEP_REAL
#define NAME MDL_STEP_NAME
#define LANES MDL_STEP_LANES(REAL)
#define NARROW MDL_STEP_NARROW_LANES(REAL)

/* Vectors of LANES numbers and narrow ones of NARROW (16 bytes), aligned
 * like one number, since rows start anywhere. */
typedef REAL NAME(step_vector)
    __attribute__((vector_size(MDL_STEP_VECTOR_BYTES), aligned(sizeof(REAL))));
typedef REAL NAME(step_narrow)
    __attribute__((vector_size(16), aligned(sizeof(REAL))));

/* A left operand, read as a matrix of `k` columns: element (r, i) is
 * a[r * row + i * col]. A plain matrix has row = k and col = 1, a
 * transposed one row = 1 and col = its stored columns. */
typedef struct {
  int k;
  const REAL *a;
  long row, col;
} NAME(step_operand);

/* packed = op(W), op(W) k × n, as k rows of MDL_STEP_PADDED(REAL, n) with
 * zeros past column n. W is stored k × n when plain, n × k when
 * transposed. */
static inline void NAME(step_pack)(mdl_op op, int k, int n, const REAL *w,
                                   REAL *packed) {
  int padded = MDL_STEP_PADDED(REAL, n);
  for (int i = 0; i < k; i++) {
    REAL *row = packed + (long)i * padded;
    for (int j = 0; j < n; j++)
      row[j] = op == MDL_PLAIN ? w[(long)i * n + j] : w[(long)j * k + i];
    for (int j = n; j < padded; j++)
      row[j] = 0;
  }
}

/* acc[r][v] += Σ_i x(r, i) w_i[v] over the x.k rows w_i of a right operand,
 * ldw apart from w on, for `rows` rows (at most MDL_STEP_ROWS) and
 * `vectors` vectors (1 or 2) of columns. The two layouts of x apart, so
 * that each loop holds only the pointers it needs. */
__attribute__((always_inline)) static inline void
NAME(step_sum)(NAME(step_vector) acc[MDL_STEP_ROWS][2], int rows, int vectors,
               NAME(step_operand) x, const REAL *w, long ldw) {
  for (int i = 0; i < x.k; i++) {
    NAME(step_vector) w0, w1;
    memcpy(&w0, w + i * ldw, sizeof w0);
    if (vectors > 1)
      memcpy(&w1, w + i * ldw + LANES, sizeof w1);
    for (int r = 0; r < MDL_STEP_ROWS && r < rows; r++) {
      REAL a = x.col == 1 ? x.a[r * x.row + i] : x.a[i * x.col + r];
      acc[r][0] += a * w0;
      if (vectors > 1)
        acc[r][1] += a * w1;
    }
  }
}

/* A tile of C, `rows` rows × `cols` columns (cols at most vectors · LANES):
 * C = x W_x + y W_y, or C += it when add, where W_x's rows and then W_y's
 * are w's, ldw apart. Inlined where rows and vectors are constants, so
 * that the accumulators are registers and the tests on r vanish. */
__attribute__((always_inline)) static inline void
NAME(step_tile)(int rows, int vectors, int cols, NAME(step_operand) x,
                NAME(step_operand) y, const REAL *w, long ldw, int add, REAL *c,
                long ldc) {
  NAME(step_vector) acc[MDL_STEP_ROWS][2];
  for (int r = 0; r < MDL_STEP_ROWS; r++)
    acc[r][0] = acc[r][1] = (NAME(step_vector)){0};
  /* C's tile is read only at the end, and comes from memory (a step's
   * deltas from its outputs): ask for it now, to arrive during the sums. */
  if (add)
    for (int r = 0; r < MDL_STEP_ROWS && r < rows; r++)
      for (int v = 0; v < vectors; v++)
        __builtin_prefetch(c + r * ldc + v * LANES, 1);
  NAME(step_sum)(acc, rows, vectors, x, w, ldw);
  NAME(step_sum)(acc, rows, vectors, y, w + x.k * ldw, ldw);
  for (int r = 0; r < MDL_STEP_ROWS && r < rows; r++) {
    REAL *row = c + r * ldc;
    if (cols == vectors * LANES) {
      for (int v = 0; v < vectors; v++) {
        NAME(step_vector) sum = acc[r][v], before;
        if (add) {
          memcpy(&before, row + v * LANES, sizeof before);
          sum += before;
        }
        memcpy(row + v * LANES, &sum, sizeof sum);
      }
    } else { /* the last columns, part of a vector */
      /* from copies, so that acc is never addressed and stays in
       * registers */
      NAME(step_vector) part[2] = {acc[r][0], acc[r][1]};
      REAL sum[2 * LANES];
      memcpy(sum, part, sizeof sum);
      for (int j = 0; j < cols; j++)
        row[j] = add ? row[j] + sum[j] : sum[j];
    }
  }
}

/* The same for a tile one narrow vector wide, or, where cols is less than
 * NARROW, the last columns of a right operand that is not padded (loaded
 * one by one, never past its rows). */
__attribute__((always_inline)) static inline void
NAME(step_tile_narrow)(int rows, int cols, NAME(step_operand) x,
                       NAME(step_operand) y, const REAL *w, long ldw, int add,
                       REAL *c, long ldc) {
  NAME(step_narrow) acc[MDL_STEP_ROWS];
  for (int r = 0; r < MDL_STEP_ROWS; r++)
    acc[r] = (NAME(step_narrow)){0};
  for (int part = 0; part < 2; part++) {
    NAME(step_operand) o = part ? y : x;
    const REAL *wo = part ? w + x.k * ldw : w;
    for (int i = 0; i < o.k; i++) {
      NAME(step_narrow) w0 = {0};
      if (cols == NARROW)
        memcpy(&w0, wo + i * ldw, sizeof w0);
      else
        for (int j = 0; j < cols; j++)
          w0[j] = wo[i * ldw + j];
      for (int r = 0; r < MDL_STEP_ROWS && r < rows; r++)
        acc[r] += (o.col == 1 ? o.a[r * o.row + i] : o.a[i * o.col + r]) * w0;
    }
  }
  for (int r = 0; r < MDL_STEP_ROWS && r < rows; r++) {
    REAL *row = c + r * ldc;
    NAME(step_narrow) part = acc[r];
    REAL sum[NARROW];
    memcpy(sum, &part, sizeof sum);
    for (int j = 0; j < cols; j++)
      row[j] = add ? row[j] + sum[j] : sum[j];
  }
}

/* One block of `rows` rows of C (a constant where inlined), n columns, in
 * tiles of two vectors, then one, then narrow ones. Each row of the right
 * operand has `readable` numbers that may be loaded: padded when packed,
 * else n. */
__attribute__((always_inline)) static inline void
NAME(step_rows)(int rows, int n, NAME(step_operand) x, NAME(step_operand) y,
                const REAL *w, long ldw, int readable, int add, REAL *c) {
  int j = 0;
  for (; j + 2 * LANES <= readable; j += 2 * LANES) {
    int cols = n - j < 2 * LANES ? n - j : 2 * LANES;
    NAME(step_tile)(rows, 2, cols, x, y, w + j, ldw, add, c + j, n);
  }
  if (j + LANES <= readable) {
    int cols = n - j < LANES ? n - j : LANES;
    NAME(step_tile)(rows, 1, cols, x, y, w + j, ldw, add, c + j, n);
    j += LANES;
  }
  for (; j < n; j += NARROW) {
    int cols = j + NARROW <= readable ? (n - j < NARROW ? n - j : NARROW)
                                      : n - j; /* fewer, one by one */
    NAME(step_tile_narrow)(rows, cols, x, y, w + j, ldw, add, c + j, n);
  }
}

/* C (m × n, contiguous) = x W_x + y W_y, or C += it when add, for the m
 * rows of x and y. */
__attribute__((always_inline)) static inline void
NAME(step_product)(int m, int n, NAME(step_operand) x, NAME(step_operand) y,
                   const REAL *w, long ldw, int readable, int add, REAL *c) {
  int i = 0;
  for (; i + MDL_STEP_ROWS <= m; i += MDL_STEP_ROWS) {
    NAME(step_operand) xi = x, yi = y;
    xi.a += i * x.row;
    yi.a += i * y.row;
    REAL *ci = c + (long)i * n;
    NAME(step_rows)(MDL_STEP_ROWS, n, xi, yi, w, ldw, readable, add, ci);
  }
  for (; i < m; i++) {
    NAME(step_operand) xi = x, yi = y;
    xi.a += i * x.row;
    yi.a += i * y.row;
    NAME(step_rows)(1, n, xi, yi, w, ldw, readable, add, c + (long)i * n);
  }
}

/* The total input of a step, Z = X W_x + H W_h, with X m × k_x and H m ×
 * k_h contiguous and W_x (k_x × n) packed above W_h (k_h × n): W_x by
 * step_pack at packed, W_h at packed + MDL_STEP_PACKED_SIZE(REAL, k_x, n). */
static inline void NAME(step_forward)(int m, int n, int k_x, const REAL *x,
                                      int k_h, const REAL *h,
                                      const REAL *packed, REAL *z) {
  NAME(step_operand) xo = {k_x, x, k_x, 1}, ho = {k_h, h, k_h, 1};
  int padded = MDL_STEP_PADDED(REAL, n);
  NAME(step_product)(m, n, xo, ho, packed, padded, padded, 0, z);
}

/* C += A W, with A m × k and C m × n contiguous and W (k × n) packed by
 * step_pack: for the backward pass, Wᵀ. */
static inline void NAME(step_add)(int m, int n, int k, const REAL *a,
                                  const REAL *packed, REAL *c) {
  NAME(step_operand) none = {0, a, 0, 1}, ao = {k, a, k, 1};
  int padded = MDL_STEP_PADDED(REAL, n);
  NAME(step_product)(m, n, none, ao, packed, padded, padded, 1, c);
}

/* C = A W, the same product written over C instead of added to it. */
static inline void NAME(step_multiply)(int m, int n, int k, const REAL *a,
                                       const REAL *packed, REAL *c) {
  NAME(step_operand) none = {0, a, 0, 1}, ao = {k, a, k, 1};
  int padded = MDL_STEP_PADDED(REAL, n);
  NAME(step_product)(m, n, none, ao, packed, padded, padded, 0, c);
}

/* G += Aᵀ D, one step's term of a weight gradient: A (m × k) the inputs of
 * the step's product, D (m × n) its deltas, G k × n, all contiguous. */
static inline void NAME(step_gradient)(int m, int k, int n, const REAL *a,
                                       const REAL *d, REAL *g) {
  NAME(step_operand) none = {0, a, 1, k}, at = {m, a, 1, k};
  NAME(step_product)(k, n, none, at, d, n, n, 1, g);
}

/* g += Dᵀ 1, one step's term of a bias gradient: the sums of the columns
 * of D (m × n). */
static inline void NAME(step_column_sums)(int m, int n, const REAL *d,
                                          REAL *g) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      g[j] += d[(long)i * n + j];
}

/* The weights' gradients of a recurrent layer, g_W_ih = Σ_s x_sᵀ δ_s,
 * g_W_hh = Σ_s h_{s-1}ᵀ δ_s and g_b_h = Σ_s δ_sᵀ 1, summed a step at a
 * time over `rows` sequences: x, h and delta point at those sequences' rows
 * of the time-major inputs x_1.., states h_0.. and deltas δ_1.., whose
 * steps are `stride` rows apart (the minibatch's size, when rows is a band
 * of it). */
typedef struct {
  int rows, stride, inputs, hidden;
  const REAL *x, *h, *delta;
  REAL *input_to_hidden, *hidden_to_hidden, *hidden_bias;
} NAME(step_gradients);

/* Sets g up for the gradients into input_to_hidden, hidden_to_hidden and
 * hidden_bias, and sets them to 0. */
static inline void
NAME(step_gradients_start)(NAME(step_gradients) * g, int rows, int stride,
                           int inputs, int hidden, const REAL *x, const REAL *h,
                           const REAL *delta, REAL *input_to_hidden,
                           REAL *hidden_to_hidden, REAL *hidden_bias) {
  *g = (NAME(step_gradients)){
      rows, stride, inputs,          hidden,           x,
      h,    delta,  input_to_hidden, hidden_to_hidden, hidden_bias};
  memset(input_to_hidden, 0, sizeof(REAL) * inputs * hidden);
  memset(hidden_to_hidden, 0, sizeof(REAL) * hidden * hidden);
  memset(hidden_bias, 0, sizeof(REAL) * hidden);
}

/* Adds step s's terms (s from 1), once δ_s is final. An mdl_helper_fn's
 * shape, so that a helper thread can sum them while δ_{s-1} is made. */
static inline void NAME(step_gradients_add)(void *gradients, int s) {
  const NAME(step_gradients) *g = gradients;
  long at = (long)(s - 1) * g->stride; /* the first row of step s */
  int m = g->rows, n = g->hidden;
  const REAL *x_s = g->x + at * g->inputs, *delta_s = g->delta + at * n;
  const REAL *h_before = g->h + at * n; /* h_{s-1} */
  NAME(step_gradient)(m, g->inputs, n, x_s, delta_s, g->input_to_hidden);
  NAME(step_gradient)(m, n, n, h_before, delta_s, g->hidden_to_hidden);
  NAME(step_column_sums)(m, n, delta_s, g->hidden_bias);
}

#undef REAL
#undef NAME
#undef LANES
#undef NARROW
