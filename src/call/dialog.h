/*
 * The state of one call inside the B2BUA: its two legs (each a dialog of its own) and
 * the transactions in flight. Private to src/call (b2bua*.c); one worker thread.
 */
#ifndef SW_CALL_DIALOG_H
#define SW_CALL_DIALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/sv.h"
#include "call/anchor.h"
#include "call/b2bua.h"
#include "call/registrar.h"
#include "call/uac_auth.h"
#include "net/loop.h"
#include "net/worker.h"

struct txn;
struct sip_msg;

#define LEG_ID_CAP     256
#define LEG_TAG_CAP    128
#define LEG_HDR_CAP    768
#define LEG_ROUTES_CAP 1024
#define REQ_VIAS_CAP   2048
#define CALL_RELAYS    4

/* A fixed-size string: call state never points into a receive buffer. */
struct fstr_id {
    char s[LEG_ID_CAP];
    size_t len;
};

struct fstr_tag {
    char s[LEG_TAG_CAP];
    size_t len;
};

struct fstr_hdr {
    char s[LEG_HDR_CAP];
    size_t len;
};

struct fstr_routes {
    char s[LEG_ROUTES_CAP]; /* "<a>, <b>" ready for one Route header; len 0 = none */
    size_t len;
};

/* What building a response to a received request needs (RFC 3261 §8.2.6). */
struct req_copy {
    char vias[REQ_VIAS_CAP]; /* every Via value, one "Via: ...\r\n" line each */
    size_t vias_len;
    struct fstr_hdr from;
    struct fstr_hdr to; /* as received */
    struct fstr_id call_id;
    uint32_t cseq;
    char method[32];
    bool has_to_tag;
};

struct leg {
    bool is_a;
    struct fstr_id call_id;
    struct fstr_tag local_tag;
    struct fstr_tag remote_tag;
    struct fstr_hdr local_hdr;     /* the From/To value that names us, with our tag */
    struct fstr_hdr remote_hdr;    /* the From/To value that names the peer (with its tag) */
    struct fstr_hdr remote_target; /* peer's Contact URI (Request-URI of our requests) */
    struct fstr_routes routes;
    uint32_t local_cseq;  /* last CSeq we sent on this leg */
    uint32_t invite_cseq; /* CSeq of the leg's initial INVITE */
    struct net_dest dest; /* next hop for requests to this peer */
    size_t listener;      /* where our Via/Contact point */
};

/* First member of every transaction user, so a txn's user pointer says what it is. */
enum tu_kind {
    TU_CALL = 1,
    TU_RELAY = 2,
    TU_REGISTER = 3,
    TU_TRUNK_REGISTER = 4,
};

/* A REGISTER crossing from a phone to the PBX (b2bua_register.c). */
struct reg_relay {
    enum tu_kind tu_kind;
    bool is_used;
    struct b2bua *owner;
    struct txn *server; /* the phone's REGISTER */
    struct txn *client; /* ours to the PBX */
    struct req_copy req;
    struct registrar_binding binding; /* what the phone asked for */
    uint32_t expires_s;
    bool is_auth_tried;
    bool is_unregister;
    struct uac_credentials_copy credentials;
    char pbx_uri[LEG_HDR_CAP]; /* Request-URI of our REGISTER */
    char username[128];
    char pbx_host[256];
    struct net_dest pbx;
    char call_id[48];
    uint32_t cseq;
};

struct relay {
    enum tu_kind tu_kind;
    bool is_used;
    struct call *call;
    bool from_a;          /* the request came in on leg A */
    struct txn *server;   /* on the leg it came from */
    struct txn *client;   /* on the other leg */
    int method;           /* enum sip_method */
    uint32_t out_cseq;    /* CSeq used on the other leg */
    uint32_t in_cseq;     /* CSeq of the received request */
    bool needs_ack_relay; /* re-INVITE answered 2xx: the ACK goes across */
    bool is_prack_offer;  /* a PRACK whose SDP went to rtpengine as an offer: its 2xx answers */
    char *ack;            /* the ACK we sent on the other leg, for its 2xx retransmissions */
    size_t ack_len;
    struct req_copy req;
};

struct call {
    enum tu_kind tu_kind;
    struct call *next_a; /* chain in the A Call-ID table, or free list */
    struct call *next_b;
    struct b2bua *owner;
    uint64_t id;
    enum call_state state;
    struct leg a;
    struct leg b;
    struct b2bua_route route; /* views cleared: only scalars kept */
    struct req_copy a_invite_req;
    bool a_invite_has_body;
    struct txn *a_invite; /* server */
    struct txn *b_invite; /* client */
    struct txn *b_cancel; /* client */
    bool b_has_provisional;
    bool is_cancel_pending; /* CANCEL wanted before B sent any provisional */
    bool is_ending;         /* BYE sent or CANCEL done: no more relays */
    bool is_b_ack_pending;  /* B's 2xx waits for A's ACK (late offer) */
    bool is_counted;
    struct uac_credentials_copy credentials; /* leg B's, for the far side's 401/407 */
    bool is_auth_tried;                      /* leg B answered one challenge already */
    bool is_late_offer; /* anchored, INVITE without SDP: B's response offers, A's ACK answers */
    char *b_ack;        /* the ACK we sent for B's 2xx, re-sent on its retransmissions */
    size_t b_ack_len;
    uint16_t final_status;
    uint64_t start_us;
    uint64_t answer_us;
    uint64_t end_us;
    struct loop_timer ring_timer;
    struct loop_timer duration_timer;
    struct loop_timer linger_timer; /* ended: polls until nothing is in flight */
    struct call *linger_prev;       /* ended, not yet released: b->lingering, oldest first */
    struct call *linger_next;
    uint32_t settle_delay_ms;
    uint32_t settle_waited_ms;
    struct relay relays[CALL_RELAYS];
    /* The last ACK we sent for a relayed re-INVITE's 2xx, per leg ([0] = A, [1] = B), re-sent
     * when that 2xx comes again. */
    char *reinvite_ack[2];
    size_t reinvite_ack_len[2];
    uint32_t reinvite_ack_cseq[2];
    struct anchor_session media;   /* media anchoring (b2bua_media.c); owner NULL = none */
    struct media_held *media_held; /* a message waiting for rtpengine's SDP, or NULL */
    /* Leg A's final response to the INVITE when it came while a PRACK's 2xx waited for
     * rtpengine: it leaves after that 2xx, never before it (b2bua_media.c). */
    struct media_held *media_after;
    struct loop_timer media_timer; /* polls rtpengine's packet count ([media] timeout) */
    uint64_t media_packets;        /* RTP packets rtpengine counted at the last poll... */
    uint64_t media_moved_ms;       /* ...and the loop time the count last moved */
    struct call_record record;     /* sent with each call event (EV_CALL_*) */
};

#endif
