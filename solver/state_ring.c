/* The recovery ring: good states in memory (see recovery.h). A slot holds the
 * state record of cliff_state_collect (an owning copy) and the weights. */
#include <stdlib.h>
#include <string.h>

#include "solver_impl.h"

static int has_good(const CliffRecovery *r)
{
    for (int i = 0; i < r->nslots; i++)
        if (r->slots[i].used && r->slots[i].good) return 1;
    return 0;
}

/* The slot a new candidate takes: an unused one, else a candidate that never
 * turned good, else the oldest good one; never the pinned first state, and
 * never the only good state. */
static CliffRingSlot *victim(CliffRecovery *r)
{
    CliffRingSlot *best = NULL;
    for (int i = 0; i < r->nslots; i++) {
        CliffRingSlot *sl = &r->slots[i];
        if (sl->pinned) continue;
        if (!sl->used) return sl;
        if (!sl->good) best = sl;
    }
    if (best) return best;
    int ngood = 0;
    for (int i = 0; i < r->nslots; i++) {
        CliffRingSlot *sl = &r->slots[i];
        if (!sl->used || !sl->good) continue;
        ngood++;
        if (!sl->pinned && (!best || sl->iter < best->iter)) best = sl;
    }
    return ngood > 1 ? best : NULL;
}

int cliff_ring_capture(CliffSolver *s, CliffError *err)
{
    CliffRecovery *r = &s->rec;
    int pinned = 0;
    for (int i = 0; i < r->nslots; i++) {
        if (r->slots[i].used && r->slots[i].iter == s->iter) return 0; /* held already */
        pinned |= r->slots[i].pinned;
    }
    if (s->iter % r->interval != 0 && has_good(r)) return 0;
    CliffRingSlot *sl = victim(r);
    if (!sl) return 0;
    CliffNet *net = s->net;
    if (!sl->weights) sl->weights = malloc((net->param_count + 1) * sizeof *sl->weights);
    cliff_state_data_free(&sl->d);
    sl->used = sl->good = 0;
    if (!sl->weights || cliff_state_collect(s, &sl->d, 1)) {
        cliff_state_data_free(&sl->d);
        return cliff_error_set(err, "out of memory for the recovery ring (recovery_ring %d)",
                               r->nslots - 1);
    }
    memcpy(sl->weights, net->param_slab, net->param_count * sizeof *sl->weights);
    sl->used = 1;
    sl->iter = s->iter;
    sl->pinned = r->mode == CLIFF_RECOVERY_ROLLBACK && !pinned;
    return 0;
}

void cliff_ring_good(CliffSolver *s, int iter)
{
    CliffRecovery *r = &s->rec;
    for (int i = 0; i < r->nslots; i++)
        if (r->slots[i].used && r->slots[i].iter == iter) r->slots[i].good = 1;
}

static CliffRingSlot *newest_good(const CliffRecovery *r, int before)
{
    CliffRingSlot *best = NULL;
    for (int i = 0; i < r->nslots; i++) {
        CliffRingSlot *sl = &r->slots[i];
        if (sl->used && sl->good && sl->iter < before && (!best || sl->iter > best->iter))
            best = sl;
    }
    return best;
}

int cliff_ring_newest_good(const CliffSolver *s)
{
    const CliffRingSlot *sl = newest_good(&s->rec, s->iter + 1);
    return sl ? sl->iter : -1;
}

int cliff_ring_restore_before(CliffSolver *s, int before, CliffError *err)
{
    CliffRecovery *r = &s->rec;
    CliffRingSlot *sl = newest_good(r, before);
    if (!sl) return cliff_error_set(err, "no good state before iteration %d", before);
    if (cliff_state_commit(s, &sl->d, sl->weights, 0, err)) return -1;
    /* States after the one restored are of a future that no longer happens. */
    for (int i = 0; i < r->nslots; i++) {
        CliffRingSlot *o = &r->slots[i];
        if (o->used && (o->iter > sl->iter || !o->good) && !o->pinned) o->used = o->good = 0;
    }
    return sl->iter;
}
