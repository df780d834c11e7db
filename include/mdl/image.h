/* mdl/image.h — pictures a person can look at: input images beside what an
 * autoencoder makes of them, as a grayscale PNG. */
#ifndef MDL_IMAGE_H
#define MDL_IMAGE_H

#include "mdl/base.h"

/* Writes a PNG with two rows of n_images tiles, each width × height pixels
 * with a 2-pixel gap: the top row the inputs, the bottom row the outputs
 * (both n_images × (width * height) row-major arrays of the given type).
 * Each pair of tiles is drawn with the same gray scale: [0, 1] when the
 * input lies in it (pixel intensities, such as CURVES and MNIST), else the
 * input's own minimum and maximum (standardized data such as FACES); values
 * outside the scale are clipped. */
int mdl_save_image_pairs(const char *path, const void *inputs,
                         const void *outputs, mdl_dtype type, int n_images,
                         int width, int height, mdl_error *err);

#endif
