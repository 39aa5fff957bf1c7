/* libFuzzer target for the image decoders (layers/data/image_codec.h). Each
 * input is decoded as color, gray and as stored, with allocations bounded to
 * 2^20 pixels. A failure must leave a one-line message and an empty image; a
 * success a sane shape, which is then resized and sent through the PNG
 * encoder, whose output must decode back to the same pixels. Anything else
 * traps; ASan and the leak checker see the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "layers/data/image_codec.h"

static void one(const uint8_t *data, size_t size, int channels)
{
    CliffError err = {.msg = ""};
    CliffImage img;
    if (cliff_image_decode_bounded(data, size, channels, (size_t)1 << 20, &img, &err)) {
        if (!err.msg[0] || strchr(err.msg, '\n') || img.px || img.channels) __builtin_trap();
        return;
    }
    if (img.channels != (channels ? channels : img.channels) ||
        (img.channels != 1 && img.channels != 3) || img.height < 1 || img.width < 1 ||
        (size_t)img.height * (size_t)img.width > ((size_t)1 << 20))
        __builtin_trap();
    CliffImage small, back;
    if (cliff_image_resize(&img, 1 + img.height % 7, 1 + img.width % 5, &small, &err))
        __builtin_trap();
    uint8_t *png;
    size_t len;
    if (cliff_image_encode(&small, CLIFF_IMAGE_PNG, &png, &len, &err)) __builtin_trap();
    if (cliff_image_decode(png, len, small.channels, &back, &err) ||
        back.height != small.height || back.width != small.width ||
        memcmp(back.px, small.px, (size_t)small.channels * small.height * small.width))
        __builtin_trap();
    cliff_image_free(&back);
    free(png);
    cliff_image_free(&small);
    cliff_image_free(&img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, 3);
    one(data, size, 1);
    one(data, size, 0);
    return 0;
}
