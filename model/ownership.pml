/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

A Promela model of the segment ownership protocol (doc/ownership.md), checked
with spin by scripts/check-model.sh. doc/ownership-model.md describes the
model, maps every step to the code it stands for, and records the results.

Three threads (ids 1..3) and two segments: segment 0 is a normal segment
(pages, free spans), segment 1 a huge one (one block, no spans). Each thread
loops forever over every action it may take: act as the owner of a segment it
believes it owns, free a block it holds, claim from the abandoned set, visit
the set.

Every `atomic` below is one step: other threads run only between steps. A
step holds at most one access that other threads can observe or race with
(a load or store of the owner field, a CAS, the thread-free exchange); lock
acquisition, lock release and data guarded by the lock or private to the
owner are folded into the step next to them. The step boundaries are the
interleavings the protocol must survive, e.g. between a claim's check and
its compare-and-swap.

Switches (spin -D...):
  LEGACY             the old raw logic: plain check-then-write claim, plain
                     reads of the owner (no acquire), "not abandoned" taken as
                     "my span queues"
  SC_ONLY            with LEGACY: leave out the happens-before check, so that
                     the counterexample shows the interleaving alone
  MUT_PUBLISH_EARLY  abandon releases the owner before the metadata is final
  MUT_UNLOCKED       abandon releases the owner before linking, outside the lock
  MUT_SPANS_LATE     abandon takes the free spans out of its queues after releasing
  MUT_TF_PLAIN       a remote free pushes with a plain read-modify-write
  MUT_VISIT_OWN_ID   the visitor claims with its own thread id
-----------------------------------------------------------------------------*/

#define NT 3       /* threads, ids 1..NT */
#define NS 2       /* segments, 0..NS-1 */
#define HUGE 1     /* segment 1 is a huge segment */
#define VISITOR 4  /* the owner value of a visit in progress: no thread has this id */
#define BIT(t) (1 << (t))

/* the metadata an owner writes (page lists, counts, span shapes) */
#define DIRTY 0    /* being changed by its owner */
#define HALF 1     /* partly final */
#define DONE 2     /* final: a claimant may read it */

#ifdef MUT_VISIT_OWN_ID
#define VISIT_ID me
#else
#define VISIT_ID VISITOR
#endif

/* ---------------------------------------------------------------------------
   Shared state
   ------------------------------------------------------------------------- */
bool ready;          /* the start state is set up */
byte owner[NS];      /* thread_id: 0 abandoned, VISITOR, or a thread id */
bool linked[NS];     /* in the abandoned set (membership, guarded by `lock`) */
byte lock;           /* the abandoned set's lock: 0 or the holder's id */
byte meta[NS];       /* owner-only metadata: DIRTY, HALF or DONE */
bool gone[NS];       /* the segment was freed (unmapped): nobody may touch it */

/* Happens-before, made explicit (spin itself is sequentially consistent).
   rel_done: the last release store of 0 happened after the metadata was
   DONE. A claimant may read the metadata only if its claim is ordered after
   that release: always, when the claim is an acquire CAS. The legacy claim
   is a plain read and write, which orders nothing; there `synced` holds the
   threads that are ordered after the last release anyway: the releaser, and
   a thread that took the lock after a release made under the lock
   (rel_locked). */
bool rel_done[NS];
#ifdef LEGACY
bool rel_locked[NS];
byte synced[NS];
#endif

/* Who believes what (bitmasks of thread ids). */
byte believers[NS];    /* threads that believe they own (or visit) the segment */
byte queued[NS];       /* threads whose span queues hold the segment's free spans */
byte visiting[NT + 1]; /* per thread: 1 + the segment it is visiting, 0 if none */

/* Blocks. `used` counts the blocks the segment considers live; such a block
   is held by a thread (until its free completes) or sits on the page's
   thread-free list. */
byte used[NS];
byte tfree[NS];      /* blocks on the thread-free list */
byte held[NT + 1];   /* per thread: segments (bitmask) it holds a live block of */

#define HELD(s) (((held[1] >> (s)) & 1) + ((held[2] >> (s)) & 1) + ((held[3] >> (s)) & 1))

/* ---------------------------------------------------------------------------
   Invariants, checked in every state (never claims from the `ltl` blocks at
   the end): at most one thread believes it owns a segment; its free spans
   are in at most one thread's queues, and only in its owner's; an abandoned
   segment is in the set; no freed block is lost or counted twice.
   ------------------------------------------------------------------------- */
#define ONE_OWNER(s)    ((believers[s] & (believers[s] - 1)) == 0)
#define ONE_QUEUE(s)    ((queued[s] & (queued[s] - 1)) == 0)
#define OWNERS_QUEUE(s) (queued[s] == 0 || queued[s] == BIT(owner[s]))
#define NOT_LOST(s)     (gone[s] || owner[s] != 0 || linked[s])
#define COUNTED(s)      (gone[s] || used[s] == HELD(s) + tfree[s])
#define ALWAYS(p)       [] (!ready || ((p(0)) && (p(1))))

/* A checked step: on failure say which property broke, then fail. */
#define REQUIRE(c, msg, a) if :: (c) -> skip :: else -> printf(msg, a); assert(c) fi

#ifdef LEGACY
#define SPANS_IN_MY_QUEUES(s) (owner[s] != 0)
#ifdef SC_ONLY
#define SYNCED(s) true
#else
#define SYNCED(s) ((synced[s] & BIT(me)) != 0)
#endif
#else
#define SPANS_IN_MY_QUEUES(s) (owner[s] == me)
#define SYNCED(s) true
#endif

/* ---------------------------------------------------------------------------
   The abandoned set's lock (used inside a step, after its guard `lock == 0`)
   ------------------------------------------------------------------------- */
inline lock_take() {
  lock = me;
#ifdef LEGACY
  if :: rel_locked[0] -> synced[0] = synced[0] | BIT(me) :: else -> skip fi;
  if :: rel_locked[1] -> synced[1] = synced[1] | BIT(me) :: else -> skip fi
#endif
}

inline lock_drop() {
  assert(lock == me);
  lock = 0
}

/* ---------------------------------------------------------------------------
   The owner field (include/mimalloc/ownership.h)
   ------------------------------------------------------------------------- */

/* The check of mi_segment_claim (and mi_segment_is_abandoned): an acquire
   load (legacy: a plain read). Sets `claiming` if it saw 0. */
inline claim_check(seg) {
  REQUIRE(!gone[seg], "VIOLATION: T%d reads the owner of a freed segment\n", me);
  if
  :: owner[seg] == 0 -> claiming = true; printf("T%d claim seg%d: check sees 0\n", me, seg)
  :: else -> claiming = false
  fi
}

/* The act of mi_segment_claim, the step after its check: a CAS 0 -> id with
   acquire (legacy: a plain write). Sets `won`. The winner reads the metadata. */
inline claim_act(seg, id) {
  claiming = false;
#ifdef LEGACY
  owner[seg] = id;
  won = true;
  printf("T%d claim seg%d: plain write %d, wins\n", me, seg, id);
#else
  if
  :: owner[seg] == 0 -> owner[seg] = id; won = true; printf("T%d claim seg%d: CAS 0->%d wins\n", me, seg, id)
  :: else -> won = false; printf("T%d claim seg%d: CAS fails, backs off\n", me, seg)
  fi;
#endif
  if
  :: won ->
     believers[seg] = believers[seg] | BIT(me);
     REQUIRE(ONE_OWNER(seg), "VIOLATION: two threads believe they own seg%d\n", seg);
     REQUIRE(meta[seg] == DONE && rel_done[seg] && SYNCED(seg),
             "VIOLATION: the claimant of seg%d may read metadata the abandoner had not finished\n", seg)
  :: else -> skip
  fi
}

/* mi_segment_release_to_abandoned: release store of 0. */
inline release(seg) {
  believers[seg] = believers[seg] & ~BIT(me);
  owner[seg] = 0;
  rel_done[seg] = (meta[seg] == DONE);
#ifdef LEGACY
  rel_locked[seg] = (lock == me);
  synced[seg] = BIT(me);
#endif
  printf("T%d release seg%d: store 0\n", me, seg)
}

/* ---------------------------------------------------------------------------
   Abandoning and giving back (abandon.c)
   ------------------------------------------------------------------------- */

/* mi_abandoned_link (lock held) */
inline link(seg) {
  REQUIRE(!linked[seg], "VIOLATION: seg%d linked twice into the abandoned set\n", seg);
  linked[seg] = true
}

/* mi_abandoned_unlink (lock held): the winner always finds it linked. */
inline unlink(seg) {
  REQUIRE(linked[seg], "VIOLATION: the winner of seg%d finds it not in the set\n", seg);
  linked[seg] = false
}

/* _mi_segment_abandon and mi_segment_give_back, after the first step (which
   makes the metadata half final): finish the metadata, take the free spans
   out of my queues, then mi_abandoned_publish: link and release in one
   critical section of the lock. */
inline abandon_rest(seg) {
  atomic {
#ifndef MUT_PUBLISH_EARLY
    meta[seg] = DONE;
#endif
#ifndef MUT_SPANS_LATE
    queued[seg] = queued[seg] & ~BIT(me);
#endif
#if defined(MUT_PUBLISH_EARLY)
    printf("T%d abandon seg%d: spans out of my queues (metadata not final yet)\n", me, seg)
#elif defined(MUT_SPANS_LATE)
    printf("T%d abandon seg%d: metadata final (spans still in my queues)\n", me, seg)
#else
    printf("T%d abandon seg%d: metadata final, spans out of my queues\n", me, seg)
#endif
  }
#ifdef MUT_UNLOCKED
  atomic { release(seg); printf("T%d: released before linking, outside the lock\n", me) }
#endif
  atomic {
    lock == 0 -> lock_take();
    link(seg);
#ifndef MUT_UNLOCKED
    release(seg);
#endif
    lock_drop()
  }
#ifdef MUT_PUBLISH_EARLY
  atomic { meta[seg] = DONE; printf("T%d abandon seg%d: metadata final (too late)\n", me, seg) }
#endif
#ifdef MUT_SPANS_LATE
  atomic { queued[seg] = queued[seg] & ~BIT(me); printf("T%d abandon seg%d: spans out (too late)\n", me, seg) }
#endif
  skip
}

inline abandon_first(seg) {
  meta[seg] = HALF;
  printf("T%d abandon seg%d: metadata half final\n", me, seg)
}

/* ---------------------------------------------------------------------------
   Spans and segments (segment.c)
   ------------------------------------------------------------------------- */

/* mi_segment_span_free_coalesce: the owner-field read decides whether the
   spans are in my queues; if so the free neighbour leaves my queue and the
   merged span enters it. */
inline span_free_coalesce(seg) {
  if
  :: SPANS_IN_MY_QUEUES(seg) ->
     REQUIRE(queued[seg] == 0 || queued[seg] == BIT(me),
             "VIOLATION: coalescing in seg%d moves spans of another thread's queue\n", seg);
     queued[seg] = BIT(me);
     printf("T%d coalesces a free span of seg%d in its queues\n", me, seg)
  :: else -> skip
  fi
}

/* _mi_segment_free: only the owner, never while linked or while a block lives. */
inline segment_free(seg) {
  REQUIRE(!linked[seg], "VIOLATION: seg%d freed while in the abandoned set\n", seg);
  REQUIRE(used[seg] == 0 && HELD(seg) == 0 && tfree[seg] == 0,
          "VIOLATION: seg%d freed while it has live blocks\n", seg);
  REQUIRE(!gone[seg], "VIOLATION: seg%d freed twice\n", seg);
  queued[seg] = queued[seg] & ~BIT(me);
  believers[seg] = believers[seg] & ~BIT(me);
  gone[seg] = true;
  printf("T%d frees seg%d\n", me, seg)
}

/* _mi_page_free_collect: take the whole thread-free list (atomic exchange). */
inline collect(seg) {
  used[seg] = used[seg] - tfree[seg];
  tfree[seg] = 0;
  printf("T%d collects the thread-free list of seg%d\n", me, seg)
}

/* mi_segment_inspect: the winner takes the free spans into its queues,
   collects the remote frees, and frees the segment when nothing in it is
   live any more (its last page's span is freed and coalesced first). */
inline inspect(seg) {
  printf("T%d inspects seg%d\n", me, seg);
  meta[seg] = DIRTY;
  if :: seg != HUGE -> queued[seg] = queued[seg] | BIT(me) :: else -> skip fi;
  collect(seg);
  if
  :: used[seg] == 0 ->
     if :: seg != HUGE -> span_free_coalesce(seg) :: else -> skip fi;
     segment_free(seg)
  :: else -> skip
  fi
}

/* ---------------------------------------------------------------------------
   Freeing a block (free.c)
   ------------------------------------------------------------------------- */

/* mi_free_block_local: only by the owner, never by a visitor. */
inline free_local(seg) {
  REQUIRE(visiting[me] != seg + 1, "VIOLATION: T%d frees locally into a segment it is visiting\n", me);
  held[me] = held[me] & ~BIT(seg);
  used[seg]--;
  printf("T%d frees its block of seg%d locally\n", me, seg)
}

/* The first step of mi_free_block_remote: the owner read (is-abandoned hint
   and the claim's check in one; a second read in between changes nothing a
   later single read would not) and the relaxed load of the thread-free list.
   A block of an abandoned huge segment is always claimed; a block of a
   normal one only if reclaim on free is enabled and the thread accepts. */
inline remote_first(seg) {
  claim_check(seg);
  if
  :: claiming -> skip
  :: claiming && seg != HUGE -> claiming = false   /* reclaim on free off or declined */
  :: else -> skip
  fi;
  n = tfree[seg]
}

/* The rest of mi_free_block_remote: claim and reclaim (then free locally),
   or push onto the thread-free list with a CAS loop (a huge block is purged
   first and left to its owner the same way). */
inline remote_rest(seg) {
  if
  :: atomic { claiming -> claim_act(seg, me); n = tfree[seg] }
  :: atomic { !claiming -> skip }
  fi;
  if
  :: atomic { won && lock == 0 ->
       lock_take(); unlink(seg); lock_drop();    /* mi_abandoned_remove */
       inspect(seg);
       free_local(seg);
       won = false; n = 0 }
  :: atomic { !won -> skip }
#ifdef MUT_TF_PLAIN
     atomic { tfree[seg] = n + 1; held[me] = held[me] & ~BIT(seg); n = 0;
       printf("T%d pushes its block onto seg%d's thread-free list (plain write)\n", me, seg) }
#else
     do
     :: atomic { tfree[seg] == n -> tfree[seg] = n + 1; held[me] = held[me] & ~BIT(seg); n = 0;
          printf("T%d pushes its block onto seg%d's thread-free list (CAS)\n", me, seg); break }
     :: atomic { tfree[seg] != n -> n = tfree[seg]; printf("T%d push CAS fails, retries\n", me) }
     od
#endif
  fi
}

#define HOLDS(s) ((held[me] & BIT(s)) != 0)

/* ---------------------------------------------------------------------------
   Threads
   ------------------------------------------------------------------------- */
#define OWNS(s) ((believers[s] & BIT(me)) != 0 && visiting[me] == 0)
#define SOME_LINKED (linked[0] || linked[1])

proctype thread(byte me) {
  byte s, n;
  bool claiming, won;

end_idle:
  do
  /* The owner: collect remote frees, free and coalesce a span, abandon
     (thread exit or heap deletion), free the segment once it is empty. */
  :: atomic { OWNS(0) && tfree[0] > 0 -> collect(0) }
  :: atomic { OWNS(1) && tfree[1] > 0 -> collect(1) }
  :: atomic { OWNS(0) -> span_free_coalesce(0) }
  :: atomic { OWNS(0) && used[0] > 0 -> abandon_first(0) }; abandon_rest(0)
  :: atomic { OWNS(1) && used[1] > 0 -> abandon_first(1) }; abandon_rest(1)
  :: atomic { OWNS(0) && used[0] == 0 -> segment_free(0) }
  :: atomic { OWNS(1) && used[1] == 0 -> segment_free(1) }

  /* mi_free of a held block: local if mi_segment_is_owned_by_me, else remote. */
  :: atomic { HOLDS(0) && owner[0] == me -> free_local(0) }
  :: atomic { HOLDS(1) && owner[1] == me -> free_local(1) }
  :: atomic { HOLDS(0) && owner[0] != me -> remote_first(0) }; remote_rest(0)
  :: atomic { HOLDS(1) && owner[1] != me -> remote_first(1) }; remote_rest(1)

  /* mi_abandoned_claim_next (only when the set is not empty): under the lock,
     check a linked segment, CAS, unlink on a win, unlock. A walk that tries
     several segments in one critical section is a sequence of these with no
     other lock user in between. Then the winner inspects the segment and
     adopts it (keeps it) or gives it back. */
  :: atomic { SOME_LINKED && lock == 0 ->
       lock_take();
       if :: linked[0] -> s = 0 :: linked[1] -> s = 1 fi;
       claim_check(s);
       if :: !claiming -> lock_drop(); s = 0 :: else -> skip fi }
     if
     :: atomic { claiming -> claim_act(s, me); if :: won -> unlink(s) :: else -> skip fi; lock_drop() }
     :: atomic { !claiming -> skip }
     fi;
     if
     :: atomic { won -> won = false; inspect(s) };
        if
        :: atomic { gone[s] -> s = 0 }
        :: atomic { !gone[s] -> printf("T%d adopts seg%d\n", me, s); s = 0 }   /* mi_segment_adopt */
        :: atomic { !gone[s] -> abandon_first(s) }; abandon_rest(s); s = 0   /* mi_segment_give_back */
        fi
     :: atomic { !won -> s = 0 }
     fi

  /* mi_abandoned_visit_blocks: under the lock, claim a linked segment with
     the visitor id; visit it without the lock (collect its pages; the
     callback may free a block of it); under the lock, release it. A walk
     over several segments is a sequence of these. */
  :: atomic { SOME_LINKED && lock == 0 ->
       lock_take();
       if :: linked[0] -> s = 0 :: linked[1] -> s = 1 fi;
       claim_check(s);
       if :: !claiming -> lock_drop(); s = 0 :: else -> skip fi }
     if
     :: atomic { claiming -> claim_act(s, VISIT_ID); lock_drop() }
     :: atomic { !claiming -> skip }
     fi;
     if
     :: atomic { won -> won = false; visiting[me] = s + 1; meta[s] = DIRTY;
          printf("T%d visits seg%d\n", me, s); collect(s) };
        if
        :: atomic { HOLDS(s) && owner[s] == me -> free_local(s) }
        :: atomic { HOLDS(s) && owner[s] != me -> remote_first(s) }; remote_rest(s)
        :: skip
        fi;
        atomic { lock == 0 ->
          meta[s] = DONE; visiting[me] = 0;
          lock_take();
          REQUIRE(linked[s], "VIOLATION: seg%d left the set during a visit\n", s);
          release(s);
          lock_drop();
          s = 0 }
     :: atomic { !won -> s = 0 }
     fi
  od
}

/* Start: thread 1 owns segment 0 and its spans, thread 2 owns the huge
   segment 1. Every thread holds a block of segment 0; one of them (any)
   holds the huge block. */
init {
  atomic {
    owner[0] = 1; believers[0] = BIT(1); queued[0] = BIT(1);
    owner[1] = 2; believers[1] = BIT(2);
    held[1] = BIT(0); held[2] = BIT(0); held[3] = BIT(0); used[0] = 3;
    if
    :: held[1] = held[1] | BIT(1)
    :: held[2] = held[2] | BIT(1)
    :: held[3] = held[3] | BIT(1)
    fi;
    used[1] = 1;
    ready = true;
    run thread(1); run thread(2); run thread(3)
  }
}

/* ---------------------------------------------------------------------------
   The invariants as never claims: `all` is the one verified; the others name
   the part that a counterexample breaks.
   ------------------------------------------------------------------------- */
#define SEG_OK(s) (ONE_OWNER(s) && ONE_QUEUE(s) && OWNERS_QUEUE(s) && NOT_LOST(s) && COUNTED(s))
ltl all { ALWAYS(SEG_OK) }
ltl one_owner { ALWAYS(ONE_OWNER) }
ltl one_queue { ALWAYS(ONE_QUEUE) }
ltl owners_queue { ALWAYS(OWNERS_QUEUE) }
ltl not_lost { ALWAYS(NOT_LOST) }
ltl counted { ALWAYS(COUNTED) }
