/* data_curves.c — the CURVES data set, re-synthesised.
 *
 * Hinton & Salakhutdinov (2006) made CURVES from smooth curves through three
 * random points, rendered as 28 × 28 images; their generator was never
 * published and their file cannot be downloaded here, so mdl draws its own
 * images in that spirit. The recipe, exactly:
 *
 *   Coordinates. Pixel (row r, column c) is stored at r * 28 + c and has its
 *   centre at (x, y) = (c, r), so the image covers [-0.5, 27.5]² in x and y.
 *
 *   Random stream. Case i draws from its own mdl_rng, seeded with
 *       z = seed + (i + 1) * 0x9e3779b97f4a7c15   (mod 2^64),
 *   then the splitmix64 finaliser of z — the (i+1)-th output of splitmix64
 *   started at seed. Case i is therefore the same image whatever the number
 *   of cases, and only the seed changes it.
 *
 *   Points. P0, P1, P2 are drawn in that order, x before y, each coordinate
 *   uniform in [2, 25] (2 + 23 * mdl_rng_uniform).
 *
 *   Curve. The parabola through the three points, parametrised by chord
 *   length: s1 = |P1 - P0| / (|P1 - P0| + |P2 - P1|), and x(s), y(s) are the
 *   quadratic Lagrange interpolants with P(0) = P0, P(s1) = P1, P(1) = P2,
 *   for s in [0, 1].
 *
 *   Redraws. The three points are drawn again, from the same stream, when
 *   |P1 - P0| or |P2 - P1| is below 1 px (s1 would be degenerate), or when
 *   the curve for s in [0, 1] leaves the box [1, 26]² (a parabola can bulge
 *   past its points; a curve cut by the frame would fall apart into pieces).
 *   About 2.5% of triples are redrawn.
 *
 *   Pen. The curve is sampled at s = k / K, k = 0..K, with K the smallest
 *   count making every step at most 0.25 px of arc (the speed |P'(s)| is
 *   largest at an end, so K = ceil(max(|P'(0)|, |P'(1)|) / 0.25)). Each pixel
 *   gets intensity max over samples of exp(-d² / (2 σ²)), σ = 0.7 px, d the
 *   distance from the pixel centre to the sample; pixels farther than 3 px
 *   from every sample stay 0 (the profile is below 1.1e-4 there). Values lie
 *   in [0, 1]; the pixel nearest P0 is within 0.71 px of it, so every image
 *   has a pixel above 0.6.
 *
 * With these constants the mean pixel value over many cases is about 0.058
 * (thin strokes on a black background). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mdl/data.h"

enum { SIDE = 28, N_PIXELS = SIDE * SIDE };

static const double POINT_LOW = 2.0, POINT_HIGH = 25.0; /* px */
static const double MIN_CHORD = 1.0;                    /* px */
static const double CURVE_LOW = 1.0, CURVE_HIGH = 26.0; /* px */
static const double MAX_STEP = 0.25;                    /* px of arc */
static const double PEN_SIGMA = 0.7;                    /* px */
static const double PEN_REACH = 3.0;                    /* px */

typedef struct {
  double x, y;
} point;

/* x(s), y(s) = a + b s + c s², the chord-length parabola. */
typedef struct {
  point a, b, c;
} parabola;

static uint64_t case_seed(uint64_t seed, int i) {
  uint64_t z = seed + (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static double distance(point p, point q) { return hypot(p.x - q.x, p.y - q.y); }

static point random_point(mdl_rng *rng) {
  point p;
  p.x = POINT_LOW + (POINT_HIGH - POINT_LOW) * mdl_rng_uniform(rng);
  p.y = POINT_LOW + (POINT_HIGH - POINT_LOW) * mdl_rng_uniform(rng);
  return p;
}

static int chords_long_enough(const point p[3]) {
  return distance(p[0], p[1]) >= MIN_CHORD && distance(p[1], p[2]) >= MIN_CHORD;
}

/* One coordinate of the Lagrange interpolant through (0, v0), (s1, v1),
 * (1, v2), expanded into powers of s. */
static void interpolate(double v0, double v1, double v2, double s1, double *a,
                        double *b, double *c) {
  /* Divided differences: Newton form v0 + f01 s + f012 s (s - s1). */
  double f01 = (v1 - v0) / s1;
  double f12 = (v2 - v1) / (1 - s1);
  double f012 = f12 - f01; /* divided by (1 - 0) */
  *a = v0;
  *b = f01 - f012 * s1;
  *c = f012;
}

static parabola fit_parabola(const point p[3]) {
  double d1 = distance(p[0], p[1]), d2 = distance(p[1], p[2]);
  double s1 = d1 / (d1 + d2);
  parabola q;
  interpolate(p[0].x, p[1].x, p[2].x, s1, &q.a.x, &q.b.x, &q.c.x);
  interpolate(p[0].y, p[1].y, p[2].y, s1, &q.a.y, &q.b.y, &q.c.y);
  return q;
}

/* Whether v(s) = a + b s + c s² stays in [CURVE_LOW, CURVE_HIGH] on [0, 1].
 * The ends are drawn points, inside already; only an interior vertex can
 * stick out. */
static int coordinate_inside(double a, double b, double c) {
  if (c == 0)
    return 1;
  double s = -b / (2 * c);
  if (s <= 0 || s >= 1)
    return 1;
  double v = a + s * (b + s * c);
  return v >= CURVE_LOW && v <= CURVE_HIGH;
}

static int curve_inside(const parabola *q) {
  return coordinate_inside(q->a.x, q->b.x, q->c.x) &&
         coordinate_inside(q->a.y, q->b.y, q->c.y);
}

static point curve_at(const parabola *q, double s) {
  point p = {q->a.x + s * (q->b.x + s * q->c.x),
             q->a.y + s * (q->b.y + s * q->c.y)};
  return p;
}

/* Number of steps so that no step exceeds MAX_STEP px of arc. */
static int sample_steps(const parabola *q) {
  /* P'(s) = b + 2 c s; its length is convex in s, so largest at an end. */
  double speed0 = hypot(q->b.x, q->b.y);
  double speed1 = hypot(q->b.x + 2 * q->c.x, q->b.y + 2 * q->c.y);
  double steps = ceil(fmax(speed0, speed1) / MAX_STEP);
  return steps < 1 ? 1 : (int)steps;
}

/* Lowers nearest[] (squared distance of each pixel to the curve so far) with
 * one sample; only pixels within PEN_REACH can change. */
static void stamp_sample(point p, double nearest[N_PIXELS]) {
  int c_lo = (int)ceil(p.x - PEN_REACH), c_hi = (int)floor(p.x + PEN_REACH);
  int r_lo = (int)ceil(p.y - PEN_REACH), r_hi = (int)floor(p.y + PEN_REACH);
  for (int r = r_lo < 0 ? 0 : r_lo; r <= r_hi && r < SIDE; r++)
    for (int c = c_lo < 0 ? 0 : c_lo; c <= c_hi && c < SIDE; c++) {
      double d2 = (c - p.x) * (c - p.x) + (r - p.y) * (r - p.y);
      if (d2 < nearest[r * SIDE + c])
        nearest[r * SIDE + c] = d2;
    }
}

/* The pen profile is decreasing in distance, so the max over samples of
 * exp(-d²/2σ²) is exp of the smallest d² — one exp per pixel, not per
 * sample. */
static void render(const parabola *q, float *image) {
  double nearest[N_PIXELS];
  double far = PEN_REACH * PEN_REACH;
  for (int k = 0; k < N_PIXELS; k++)
    nearest[k] = far;
  int steps = sample_steps(q);
  for (int k = 0; k <= steps; k++)
    stamp_sample(curve_at(q, (double)k / steps), nearest);
  for (int k = 0; k < N_PIXELS; k++)
    image[k] = nearest[k] >= far
                   ? 0.0f
                   : (float)exp(-nearest[k] / (2 * PEN_SIGMA * PEN_SIGMA));
}

/* Draws point triples until one gives a usable curve inside the image. */
static parabola draw_curve(mdl_rng *rng) {
  for (;;) {
    point p[3];
    for (int k = 0; k < 3; k++)
      p[k] = random_point(rng);
    if (!chords_long_enough(p))
      continue;
    parabola q = fit_parabola(p);
    if (curve_inside(&q))
      return q;
  }
}

static void draw_case(uint64_t seed, int i, float *image) {
  mdl_rng rng;
  mdl_rng_seed(&rng, case_seed(seed, i));
  parabola q = draw_curve(&rng);
  render(&q, image);
}

int mdl_data_curves(mdl_dataset *ds, int n_cases, uint64_t seed,
                    mdl_error *err) {
  memset(ds, 0, sizeof *ds);
  if (n_cases <= 0)
    return mdl_fail(err, "curves: the number of cases must be positive, not %d",
                    n_cases);
  ds->n_cases = n_cases;
  ds->n_inputs = N_PIXELS;
  ds->inputs = mdl_alloc((size_t)n_cases * N_PIXELS * sizeof(float));
  for (int i = 0; i < n_cases; i++)
    draw_case(seed, i, ds->inputs + (size_t)i * N_PIXELS);
  snprintf(ds->source, sizeof ds->source,
           "curves (synthetic, %d cases, seed %llu)", n_cases,
           (unsigned long long)seed);
  return 0;
}
