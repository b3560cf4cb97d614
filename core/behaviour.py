"""What tracks do, named: typed events from the local engine's tracks (core.tracks).

Every rule works on measurements in the object's own size (a person's height, a vehicle's length)
and seconds, so it holds whatever the camera's distance; the thresholds below were chosen on
generated clips of the test scenes and checked on a held-out random set and on real footage
(bench/RESULTS.md). Each finding keeps the figures that made it fire, for its description.
Velocities compare positions 0.2 s apart; where the frame's edge cuts a box short, along that axis
they follow its uncut side (a vehicle driving in through the edge shows a box growing out of it, whose
centre moves at half its speed), so every rule sees the object's speed and heading (`in_frame`).

- Classification (`classify`): vehicle-like when it travels as an oblong about twice as long as broad
  does (its box's aspect follows its heading: wide driving across, taller driving up the picture, never
  much taller than wide), person-like (a quarter taller than wide, and changing shape as limbs move or
  standing; or taller than wide at all and twice as tall as a vehicle heading its way would be: a small
  walker's box, fattened by a pixel or two, is hardly taller than wide), vehicle-like
  too when wider than long-side-up, rigid and travelling, or when, seen a second or more and moving
  most of it, it travels not taller than wide and no more than 1.6 times as tall as one such oblong
  heading its way (vehicles merged side by side or one behind another, or with a shadow; a walker is
  twice as tall or more; a fragment flickers wide for a moment, and a region that mostly stands is no
  vehicle by how it looked while it moved), else other; the evidence is kept.
- COLLISION: two tracks, at least one vehicle-like, seen on their own for 0.4 s of the second before
  they met (a track that was only a share of a region merged with others, or a box carried on
  unseen, has no speed or heading of its own to lose), that were apart approach
  at 1.5 sizes a second or more (traffic drawing up behind or beside another closes in slower), touch
  (their boxes meet or they become one region: both share one, their boxes together no larger than a
  region the tracker lets two tracks share; in busy traffic each may share a region with another car,
  far apart), and at least one loses most of its speed or turns
  sharply (without speeding up) within a second, while the other did not go on at driving speed keeping
  most of its own, whatever its heading (a hit that stops or turns one takes the other's speed too: one
  that went on passed a vehicle that was stopping, or drove through a region merged with it). Both were
  moving before (0.3 sizes/s or more): one that drives into a region standing there (a vehicle stopped
  on the shoulder, a queue) merges with it and is lost there, seeming to stop, whether it passed,
  queued or hit, and most COLLISIONs on stopped-vehicle scenes were such merges. One driving out of
  the picture whose box lies against the edge it headed for (within 60°) in most of the second after
  did not stop: the edge holds its box. A fast track
  that ends as it meets the other (the two become one region, seen as one track) lost its speed there
  when the other, moving before, goes on at half its speed or less, slower than driving (the wreck
  stands; when both tracks ended, the wreck is the track that began there), and nothing comes out of
  that region at the first one's speed and heading. A track that comes out of the meeting moving as
  the other (on a crossing path) moved before followed the other, which drove on: neither its seeming
  sharp turn nor the other track's seeming stop is a hit. And the wreck stays: one of the two, or a
  track begun there (0.3 s before to 0.5 s after contact), stays on the box where they touched for half
  a second within 0.5–3 s after, its centre moving on less than 0.3 sizes a second net over it (a
  wreck's region jitters as passing traffic merges with it, its centre comes back; crashed vehicles stay
  where they crashed; two that brush or cross and drive, or creep, on leave nothing standing there, and
  most COLLISIONs on busy traffic were such meetings). A bystander that comes to stand there later (a
  car slowing after a close pass) is no wreck.
- NEAR_MISS: two tracks, at least one vehicle-like, whose paths cross (headings 25–155° apart: not
  traffic side by side or in opposite lanes), close in and pass within a fraction of their size of each
  other at speed, both moving (a person-like one faster than a walk: someone standing at the kerb, or a
  parked car, has no path of its own to cross), without touching (not closest as one first appears
  beside the other: a region splitting off it or a fragment was never seen closing in), and both are
  seen to keep going (at half their speed or more within a second: a track that ends as they pass says
  nothing of it); each an established road user (a person crossing in front of a car too): seen on its
  own for half a second before the closest moment, its box steady in size (a fragment of something
  jumping about is neither; a side the frame's edge cuts, growing as a vehicle drives in, is not its
  size). At a small analysis width a close pass touches: two such road users on
  plainly crossing paths (40–140°), both moving, and one way (a person-like one faster than a walk; a
  fragment jittering in place has no path to cross), whose regions meet or merge (into one region:
  each sharing a region with another, far apart, is no meeting) are a NEAR_MISS too
  when each one's old speed and heading is taken up again within a second, for half a second, each by a
  different track (its own, the other's, or a track that began where it would then have been, driving on
  as before from where it was last seen on its own: a vehicle whose region was lost beside the other's
  is seen again lengths further on; on paths crossing at a narrow angle one track's motion may seem to
  take up both, so another that took up one of them is looked for).
- FALL: a track standing upright (taller than wide) whose moving part drops from its upright height to its
  lower half fast and turns wide (wider than tall; or swept wide on its way down) within 1.5 s, one body's size, while its
  feet stay put (or, when only part of the body stands out of the ground, after standing still it went
  down sideways: the part's bottom drops too and its centre moves aside; then it need not turn wide
  when its top sank below where its bottom stood, a whole upright height: lying, what stands out of
  it may be as tall as wide, arms reaching up, legs unseen), and which then stays low
  and lies there for 0.8 s (not carried on; a body settling as it lands moves a moment). The body
  often lands as a region of its own: a track that begins moving within those 1.5 s, after which
  the standing one's region moves no more (it ended, or stands as the place the body left), takes
  the fall over where all of its box lies in the lower half of the upright height, half a body long
  or more (a fall seen as two tracks; someone standing up there reaches higher). Someone who stood
  there from the start is learnt into the background and first seen as they fall: a track that
  comes into being mid-picture, moving, after tracking began (when the engine's background warm-up
  ended), is judged from its first moving parts (0.2 s of them, often a sliver first) as the body
  standing, unless another track drove through that place (covering half of it, moving) after
  tracking began and before it came into being: that place was open, nobody stood there (a car
  coming into view in the distance, a glint on it first seen tall, then shrinking, is no body); where
  it lands inside what those spanned is the place such a person left, walking off (a "ghost"), not a
  body that fell (one lies beside or below where it stood).
- FIGHT: person-sized tracks (two or more, each moving strongly for a quarter of the time or more,
  or one region as wide as two people), seen whole (not cut by the picture's edge), with strong,
  back-and-forth motion inside their boxes while staying in place (the place, and most of the tracks
  seen there as their own region, and whole, going back and forth there: not people walking past each
  other, however slowly, nor one walking in through the edge; a track whose box got further only back
  and forth, as when the tracker swaps the two people, stayed; people who each walked into the place
  just before are meeting, and are judged from what they do next; where grappling people's tracks
  split and merge so that none is seen as itself for long, the place reaches no further than two
  people), for a second or more; a place is what
  moves strongly close together (someone walking elsewhere in the picture at the time is another
  place), judged in windows of 1.5 s, so people who walk up to each other and fight are not judged by
  their walk.
- RUNNING: a person-like track moving at 1.8 of its heights a second or more for 0.5 s, seen whole
  and changing (not a fragment, not a box carried on without a changed pixel, its own region: one it
  shares only with a small track on a part of it counts; frames where it still moves that fast but
  its box is cut short or shared do not end the run), at least twice as fast
  as it moved before, or as the track it took over from moved (a body breaking into a run changes
  shape and its track breaks up; a track that comes into view fast counts only as part of a crowd's run);
  CROWD_PANIC when three or more tracks break into such a run within 1.5 s of each other, or when
  three or more tracks, most of them person-like and three at once, turn that fast within 1.5 s where
  hardly anything was fast just before (runners' tracks break up: none has to run for long; a track
  under half the usual height of those that ran is a fragment and counts neither way), or when
  five or more tracks, most not vehicle-like, turn that fast within 1.5 s for two frames or more
  (seen, changing; shared regions and fragments count), heading apart in every direction and not
  towards each other, where at most a third as many were fast just before (a crowd scattering).
  Also (`broke_off`, asked by the engine about unusual motion no rule explained): three or more
  people broke off where that motion began: person-like tracks that stood or walked there ended while
  moving (not a standing person fading into the background: nothing of it changed as it went) or sped
  to a run as it did; also tracks that began there within 0.3 s of it and ran, not vehicle-like, when
  two or more people were seen to break off (each track no smaller than they), or else when a place
  someone left is seen (a track begun there as the motion did that stands still for a second: people
  who stood still for long were learnt into the background and are first seen as they run off; each
  track at least half the usual height of person-like tracks in the picture; thrown fragments are
  smaller, objects jumping about leave no such place; such a place is none of the runners, whatever
  its box does later). Tracks on one object before it count once: close to the camera one body's
  region splits into pieces (the body, an arm, the head), their boxes overlapping all along, and one
  person walking off is no crowd.
- WRONG_WAY: a vehicle-like track (or any moving faster than people walk) moving against the
  direction two or more other vehicle-like tracks keep where it drives (fragments and unclassed
  regions, heading every way, are no flow) and in the cells beside it (a 5×5 grid: a one-way
  road's lanes together, also a far lane a few pixels from the near one), for a second or more and in
  nine of ten of the frames it was judged in (a vehicle turning across the flow, or a fragment of
  mixed regions, goes against it only now and then), judged where it was seen as a region of its own
  (a track carried on by its prediction, or placed in regions it shares with traffic, is no driver
  seen: in busy traffic such a track drifts anywhere); a second track on the same object is no flow,
  and a vehicle that drove at another and hit it is in that collision instead. Nor is it one when
  another vehicle drove its way in its lane, at any time: heading its way along its path, nearer
  across it than half the way to the oncoming tracks beside it, for a second, half its length or longer
  (a fragment is no vehicle) and no part of it (a track on the same object, or one seen with it nearer
  than it drives in half a second: its region split, front and back; traffic keeps further apart). A
  two-way road with one car per lane looks like a wrong-way driver on a one-way road (oncoming traffic
  in the lane beside it) until another drives that way along the same lane. A track whose box went
  out through an edge of the frame (shrinking across it for half a second) and grows back out of it
  goes on with another vehicle coming in there: the parts before and after are judged apart.
- STOPPED_VEHICLE: a vehicle-like track that was driving, stands still for 2 s or more, while
  other tracks keep moving (other objects: not its own pieces, tracks that came along with it
  overlapping it), and keeps its shape as it stops (a body that falls turns from tall to wide);
  it is seen as its own region within 2 s of when it began to stand, driving up or standing (inside a
  region it shares with the traffic beside it the tracker holds its box at one place, `core.tracks`:
  a car merged with others all along, far away, seems to stand while their region drives on).
  Traffic passing in the next lane merges with a stopped vehicle's region, drags its box and often
  ends its track: the stand goes on where, within a second, a still box like its own stands again
  on the same spot (in its own track or the one that took over), or what is left of it as it fades
  into the background (a box inside its own, a quarter of its area or more); and on as long as a
  standing object on its box (half of the two boxes overlapping: what differs from the long-term
  background and does not change, `core.tracks`), there by then, stands, unless something stood
  there from when tracking began. A track begun within 1.5 s of when tracking began that stands on a
  box half or more inside the one it was first seen in is no stop: a vehicle seen when tracking
  began was learnt into the background, and as it drives off the place it left stands out (a
  "ghost"), its track dragged away by the departing vehicle and back. Nor is a stand of one of a
  COLLISION's vehicles that begins within 2 s of the contact, or later where they touched (half its
  box inside theirs): that is the wreck (passing traffic merging with it may keep its box jumping
  about for seconds before it seems to stand still).

Severity (0 note, 1 concern, 2 danger) comes from the type and the measured magnitude
(`severity_of`): COLLISION, FALL, FIGHT and CROWD_PANIC are 2; NEAR_MISS is 2 when the gap was
under a quarter of the smaller object's size, else 1; WRONG_WAY is 2 for a vehicle-like track
against the flow for 2 s or more, else 1; STOPPED_VEHICLE 1; RUNNING 0; unexplained motion
(SUDDEN_MOTION, MOTION_BURST) 1 when it stands out twice as far as the flagging threshold, else 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.i18n import Message, say
from core.tracks import (
    MATCHED,
    MH,
    MOTION,
    MW,
    MX,
    MY,
    SHARED,
    SHARED_GROWTH,
    H,
    T,
    Track,
    W,
    X,
    Y,
    cover,
    iou,
)

PERSON, VEHICLE, OTHER = "person", "vehicle", "other"

SPEED_SPAN_SEC = 0.2  # velocities: positions compared this long before and after each frame
EDGE_SHORT = 0.9  # ... when the box is shorter that way than this share of its extent seen uncut
EDGE_PX = 1.0  # a box side this near the frame's edge is cut by it (measured from the other side)
MOVING = 0.5  # sizes per second: a track slower than this is not driving or walking
STILL = 0.3  # sizes per second: slower than this stands still (a fading box jitters)

COLLISION_APPROACH = 1.5  # sizes/s: the two closed in on each other at least this fast (queueing traffic
# draws up slower, boxes touching at a small analysis width; a crash that stops one closes in faster)
COLLISION_FAST = 0.8  # sizes/s: the one that loses speed or turns was this fast before
COLLISION_SLOWDOWN = 0.6  # ... and lost at least 60 % of its speed
COLLISION_TURN_DEG = 60.0  # ... or turned at least this much
COLLISION_KEPT = 0.5  # the other went on fast keeping half its speed or more: it was not hit
COLLISION_KNOWN_SEC = 0.4  # both were seen on their own this long before they met (fast vehicles' tracks
# break up as they come into view and near each other: 0.4 s is four frames at the analysis rate)
COLLISION_RECENT_SEC = 1.0  # ... in the last this long (their speeds and headings before are measured then)
WRONG_WAY_SEEN = 0.5  # of its frames against the flow, it was seen in this share or more
COLLISION_ABSORBED_SEC = 0.3  # a track that ended this soon after meeting the other ran into its region
COLLISION_ABSORBED_SLOWED = 0.5  # ... which went on at this share of its speed or less (slowed by the hit)
COLLISION_WRECK_AFTER_SEC = (0.5, 3.0)  # a wreck stands at the contact box within this span after contact ...
COLLISION_WRECK_SEC = 0.5  # ... this long, its centre's net move slower than STILL (cars that touch
# and drive on do not)
COLLISION_WRECK_BEGUN_SEC = (-0.3, 0.5)  # ... one of the two, or a track begun within this span of contact
NEAR_MISS_GAP = 0.6  # of the smaller object's short side: closer than this without touching
NEAR_MISS_FAST = 1.0  # sizes/s, the faster of the two
NEAR_MISS_RELATIVE = 1.0  # sizes/s: how fast they passed each other
NEAR_MISS_CROSSING_DEG = 25.0  # their headings differ by this much at least (and at most 180° less it)
NEAR_MISS_TOUCH_CROSSING_DEG = 40.0  # ... this much when they touched (opposite lanes' traffic merges too)
NEAR_MISS_ONE_WAY = 0.7  # touching, each kept one way before (mean velocity over mean speed)
NEAR_MISS_KNOWN_SEC = 0.5  # each was seen on its own this long before the closest moment
NEAR_MISS_STEADY = 1.5  # ... and its box's longer side changed slower than this (log per second, median)
FALL_MAX_SEC = 1.5
FALL_DROP = 0.5  # the moving part's top ends in the lower half of the upright height
FALL_DROP_SEC = 0.6  # ... within this long of the last moment it moved up high (a fall is fast)
FALL_WIDE = 1.05  # width over height: a moving part this much wider than tall turned wide (a body lying
# seen 10-20 px long is wider than tall by a pixel or two, not by a fifth)
FALL_SWEEP = 1.0  # upright heights: a moving part this wide on the way down turned wide
FALL_AFTER_SEC = 0.8  # it lies there this long after landing
FALL_TALL_SEC = 0.5  # upright: at least 0.8 of its tallest this long before (not a fragment of it)
FALL_STOOD_SEC = 0.5  # standing still, as its own region, this long before it fell (or unseen) ...
FALL_SIDEWAYS = 0.3  # ... its centre went this many upright heights aside as it went down ...
FALL_ASIDE = 2.0  # ... and no further than this (a partly seen body's centre moves far; 1 otherwise)
FALL_ONE_BODY = (1.3, 2.5)  # upright heights: a body that fell is no taller, nor longer, than this
FALL_LYING_LENGTH = 0.5  # upright heights: a track that took over where the body lands is this long
FALL_FIRST_SEC = 0.2  # a track that began falling: its first moving part this long stands for the body
FALL_MIN_HEIGHT = 0.08  # of the frame: a smaller upright region is a fragment, not a standing person
FIGHT_MOTION = 0.35  # changed pixels per box pixel (the motion inside the boxes)
FIGHT_MIN_SEC = 1.0
FIGHT_WINDOW_SEC = 1.5  # a place is judged in windows this long ...
FIGHT_STEP_SEC = 0.5  # ... one starting this often
FIGHT_MAX_DRIFT = 0.5  # heights: a fight stays in place (walkers move on)
FIGHT_REACH = 2.0  # heights: where no track is seen as itself for long, the place's boxes reach no further
FIGHT_BACK_AND_FORTH = 4.0  # the path of the moving part is this many times its net displacement
FIGHT_TOGETHER = 0.75  # heights: strongly moving regions this close in a frame are one place
FIGHT_SWAPPED = 2.0  # a track whose path was this many times its net move got there back and forth
# (grappling people's tracks change hands between them; a walker's path is about its net move)
FIGHT_WALKED_IN = 0.3  # heights: people who each walked this far into a place just before are meeting
FIGHT_TAKING_PART = 0.25  # a track moved strongly in this share of a window's frames to count as one
# of the people
FIGHT_SAME_BOX = 0.5  # IoU: two tracks' boxes placed in one shared region this alike are one region
RUN_SPEED = 1.8  # heights per second
RUN_MIN_SEC = 0.5
PREDECESSOR_SEC = 0.6  # a run's track that began where another was this recently took over from it
RUN_CHANGING = 0.1  # of its box: what runs changes from frame to frame (a box that coasts does not)
FRAGMENT_SHARE = 0.25  # of a box: a track sharing its region with a smaller one is still seen as itself
PANIC_RUNNERS = 3
PANIC_WITHIN_SEC = 1.5
PANIC_FRAGMENT = 0.5  # of the median height of the tracks that ran: a smaller one is a fragment
PANIC_SCATTERED = 5  # a crowd scattering: this many tracks turning fast at once ...
PANIC_FAST_FRAMES = 2  # ... each for this many frames or more,
PANIC_SPREAD = 0.6  # ... heading apart (1 − their mean heading's length: 0 one way, 1 every way)
PANIC_CONVERGING = -0.25  # ... and not towards each other (mean cosine of heading and way out)
BROKE_OFF_BEFORE_SEC = 0.3  # people there this long before unexplained motion began ...
BROKE_OFF_CALM = 1.0  # ... moving no faster than this many heights a second
BROKE_OFF_SEEN = 2  # when this many of them are seen to break off (or a place left is seen) ...
BROKE_OFF_BEGAN_SEC = 0.3  # ... tracks that begin running there this close to it (or during it) ...
BROKE_OFF_BODY = 0.5  # ... (where a place left is seen) this share of person-like tracks' median height
BROKE_OFF_LARGEST = 3.0  # ... and no longer than this many times it (or the tallest seen): a wall's shadow
BROKE_OFF_UPRIGHT = 1.0  # ... and, running, at least as tall as wide (a wide region is no runner)
BROKE_OFF_GHOST_SEC = 1.0  # a track begun there as it did, standing this long, is a place someone left
BROKE_OFF_LAST_SEC = 0.3  # a track that ended broke off when something of it changed this close to its end
FLOW_GRID = 5  # the flow is learnt per cell of a 5×5 grid, with the cells around
FLOW_MIN_TRACKS = 2
FLOW_AGREEMENT = 0.7
WRONG_WAY_DEG = 135.0
WRONG_WAY_MIN_SEC = 1.0
WRONG_WAY_SHARE = 0.9  # of the frames it was judged in, against the flow
WRONG_WAY_FAST = 2.0  # sizes per second: a track not vehicle-like this fast is judged too
BACK_IN_SEC = 0.5  # a box against an edge shrinking across it this long ...
BACK_IN_SHRINK = 0.4  # ... to this share of its widest there went out: growing back is another object
OWN_WAY_DEG = 45.0  # another track heading within this of a driver's way drives its way ...
OWN_WAY_LANE = 0.5  # ... in its lane: this share of the way across to the oncoming flow, or nearer ...
OWN_WAY_SIZE = 0.5  # ... when it is this share of the driver's length or longer (a fragment is no vehicle)
OWN_WAY_HEADWAY_SEC = 0.5  # one nearer than it drives in this, seen with it, is a part of it
STOP_MIN_SEC = 2.0
STOP_DRIVING_SEC = 0.7
STOP_BRIDGE_SEC = 1.2  # a vehicle's still stretch goes on across a break this long ...
STOP_SAME_PLACE = 0.7  # ... where a still box overlapping its own this much (IoU) stands again
STOP_INSIDE = 0.9  # ... or lies this much inside it (a standing vehicle fading into the background
STOP_KEPT = 0.25  # shrinks), keeping this much of its area
STOP_PIECE_ROWS = 3  # a still stretch of fewer matched rows is a pause in a jittering box
STOP_SEEN_SEC = 2.0  # a stop's vehicle was seen as its own region this close to when it began to stand
STOP_SHAPE_CHANGE = 1.6  # a box whose height / width changes more than this as it stops is no vehicle
STOP_SLOWING = 0.5  # a driving track that ended this slow (share of its driving speed) was stopping ...
STOP_TAKEN_OVER = 0.5  # ... where a newer track's still box overlapping its last this much (IoU) is it
STOP_GHOST_SEC = 1.5  # a track begun this soon after tracking began, standing ...
STOP_GHOST_SAME = 0.5  # ... on a box this much inside its first, is a ghost (see stopped_vehicles)
STOP_WRECK_INSIDE = 0.5  # a collision's vehicle standing this much inside where they touched is its wreck
STOP_STANDING_SAME = 0.5  # a standing object overlapping a still box this much (IoU) is that vehicle standing
RIGID_BREADTH = 0.5  # a vehicle seen from above is about twice as long as broad ...
RIGID_ALIGNED = (0.8, 1.25)  # ... so its box's aspect follows its heading within these factors ...
RIGID_MAX_ASPECT = 1.5  # ... and is never much taller than wide (people are)
WIDE_ALIGNED_MAX = 1.6  # a travelling box not taller than wide, no taller than this many times an
# oblong heading its way, is vehicles (merged, or with a shadow; a walker's box is UPRIGHT_SIDEWAYS or
# more) ...
WIDE_MIN_SEC = 1.0  # ... when seen this long (fragments flicker wide for a moment) ...
WIDE_MAX_VARIATION = 0.3  # ... and keeping its shape this well (a body turning and bending does not)
UPRIGHT_SIDEWAYS = 2.0  # aspect over a vehicle's heading that way: a tall box moving sideways is a body


@dataclass
class TrackView:
    """A finished track with smoothed velocities, its size and its class (with the evidence)."""

    id: int
    data: np.ndarray
    t: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    vx: np.ndarray
    vy: np.ndarray
    height: float
    length: float  # the longer side (a vehicle's length, a person's height)
    kind: str = OTHER
    aspect: float = 1.0
    variation: float = 0.0
    travel: float = 0.0
    person_check: bool | None = None  # the HOG people detector's verdict, when it was asked
    speed_sizes: float = 0.0  # median speed in its own sizes a second
    alignment: float = 0.0  # its shape over a rigid oblong's heading its way (see _alignment)

    @property
    def speed(self) -> np.ndarray:
        return np.hypot(self.vx, self.vy)

    @property
    def start(self) -> float:
        return float(self.t[0])

    @property
    def end(self) -> float:
        return float(self.t[-1])

    def box_at(self, time: float) -> tuple[float, float, float, float]:
        row = self.data[int(np.argmin(np.abs(self.t - time)))]
        return float(row[X]), float(row[Y]), float(row[W]), float(row[H])

    def between(self, start: float, end: float) -> np.ndarray:
        return (self.t >= start - 1e-6) & (self.t <= end + 1e-6)


@dataclass
class Finding:
    """A typed event found in the tracks, with the figures that made its rule fire."""

    event_type: str
    start: float
    end: float
    peak: float
    track_ids: list[int]
    strength: float  # 1 at the rule's threshold, more the further the measurement exceeds it
    facts: dict[str, float | str] = field(default_factory=dict)
    box: tuple[float, float, float, float] | None = None  # analysed-frame pixels at the peak

    @property
    def severity(self) -> int:
        return severity_of(self.event_type, self.strength, self.facts)


def severity_of(event_type: str, strength: float, facts: dict) -> int:
    """0 note, 1 concern, 2 danger, from the type and the measured magnitude (see the module doc)."""
    if event_type in ("COLLISION", "FALL", "FIGHT", "CROWD_PANIC"):
        return 2
    if event_type == "NEAR_MISS":
        return 2 if float(facts.get("gap_share", 1.0)) < 0.25 else 1
    if event_type == "WRONG_WAY":
        return 2 if facts.get("kind") == VEHICLE and float(facts.get("seconds", 0.0)) >= 2.0 else 1
    if event_type == "STOPPED_VEHICLE":
        return 1
    if event_type == "RUNNING":
        return 0
    return 1 if strength >= 2.0 else 0


# --- tracks as measurements -------------------------------------------------------------------------


def view_of(track: Track) -> TrackView:
    """The track as measurements: centres, velocities (of the boxes' centres; `in_frame` measures them
    again on the side of a box the frame's edge does not cut) and its size."""
    data = track.data if track.data is not None else np.array(track.rows, dtype=np.float64)
    t = data[:, T]
    cx, cy = data[:, X] + data[:, W] / 2, data[:, Y] + data[:, H] / 2
    vx, vy = _velocities(data, None)
    own = (data[:, MATCHED] > 0) & (data[:, SHARED] == 0)
    sizes = data[own] if own.any() else data
    height = float(np.median(sizes[:, H]))
    length = float(np.median(np.maximum(sizes[:, W], sizes[:, H])))
    return TrackView(track.id, data, t, cx, cy, vx, vy, max(height, 1.0), max(length, 1.0))


def _velocities(data: np.ndarray, size: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the velocity from positions SPEED_SPAN_SEC before and after it. Along each axis the
    position is the box's centre, except, with the frame's `size`, where the frame's edge cuts one side of
    the box short within that span (the side within EDGE_PX of the edge, the box shorter that way than
    EDGE_SHORT of its median extent in the frames where neither side touches an edge): then the other,
    uncut side's (an object driving in through the edge shows a box growing out of it, whose centre
    moves at half its speed and whose heading bends towards the edge's normal; its uncut side moves
    with the object). A box as long as the object touching the edge is whole (its centre halves its
    sides' jitter, a region fading at one side does not move); cut on both sides, the centre's."""
    t = data[:, T]
    before = np.clip(t - SPEED_SPAN_SEC, t[0], t[-1])
    after = np.clip(t + SPEED_SPAN_SEC, t[0], t[-1])
    span = np.maximum(after - before, 1e-3)
    # the frames each row's positions are interpolated between, to tell whether the edge cut any of them
    first = np.clip(np.searchsorted(t, before, side="right") - 1, 0, len(t) - 1)
    last = np.clip(np.searchsorted(t, after, side="left"), 0, len(t) - 1)
    edges = None if size is None else _against_edges(data, size)
    velocities = []
    for axis, (low, extent) in enumerate(((X, W), (Y, H))):
        near, far = data[:, low], data[:, low] + data[:, extent]
        position = near + data[:, extent] / 2
        velocity = (np.interp(after, t, position) - np.interp(before, t, position)) / span
        if edges is not None:
            at_near, at_far = edges[axis], edges[axis + 2]
            # cut short: shorter that way than the object is where the edge cuts neither side (a region
            # as long as the whole object is not hidden by the edge, whatever its side touches)
            whole = data[~at_near & ~at_far & (data[:, MATCHED] > 0) & (data[:, SHARED] == 0), extent]
            short = data[:, extent] < EDGE_SHORT * float(np.median(whole)) if len(whole) else True
            cut_near, cut_far = (
                _within(at_near & short, first, last),
                _within(at_far & short, first, last),
            )
            for cut, side in ((cut_near & ~cut_far, far), (cut_far & ~cut_near, near)):
                moved = np.interp(after[cut], t, side) - np.interp(before[cut], t, side)
                velocity[cut] = moved / span[cut]
        velocities.append(velocity)
    return velocities[0], velocities[1]


def _within(flags: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Per row, whether `flags` holds for any row from `first` to `last` (inclusive)."""
    counts = np.concatenate(([0], np.cumsum(flags)))
    return counts[last + 1] - counts[first] > 0


def in_frame(views: list[TrackView], size: tuple[int, int]) -> None:
    """Measures each view's velocities again knowing the analysed frame's `size` (see `_velocities`):
    the engine builds the views before it asks `find_events`, which does this first, so every rule (and
    whatever the engine asks of the views after) sees the object's speed and heading, not its visible
    part's."""
    for view in views:
        view.vx, view.vy = _velocities(view.data, size)


def classify(view: TrackView, person_check: bool | None = None) -> TrackView:
    """Person-like, vehicle-like or other, from shape, shape changes, travel and (when asked) the
    HOG people detector; the evidence stays on the view (see `evidence`)."""
    data = view.data
    own = (data[:, MATCHED] > 0) & (data[:, SHARED] == 0)
    rows = data[own] if own.sum() >= 3 else data
    aspect = float(np.median(rows[:, H] / np.maximum(rows[:, W], 1.0)))
    variation = float(
        (_relative_spread(rows[:, H]) + _relative_spread(rows[:, W])) / 2 if len(rows) >= 3 else 0.0
    )
    steps = np.hypot(np.diff(view.cx), np.diff(view.cy))
    travel = float(steps.sum() / view.length)
    speed = float(np.median(view.speed) / view.length)
    view.aspect, view.variation, view.travel, view.person_check = aspect, variation, travel, person_check
    view.alignment = _alignment(view)
    if (
        person_check is not True
        and travel >= 1.0
        and aspect <= RIGID_MAX_ASPECT
        and RIGID_ALIGNED[0] <= view.alignment <= RIGID_ALIGNED[1]
    ):
        kind = VEHICLE  # an oblong that travels along its long axis, whichever way it drives
    elif (
        person_check
        or (
            aspect >= 1.25
            and (variation >= 0.05 or speed < MOVING)
            or aspect > 1.0  # taller than wide, twice as tall as a vehicle heading its way: a small
            and view.alignment >= UPRIGHT_SIDEWAYS  # walker's box, fattened by a pixel or two, too
        )
        and person_check is not False
    ):
        kind = PERSON
    elif (  # rigid and wide; or wide and shaped about as vehicles heading its way (merged, shadowed)
        aspect <= 0.9
        and variation < 0.12
        and travel >= 1.0
        or aspect <= 1.0
        and travel >= 1.0
        and 0.0 < view.alignment <= WIDE_ALIGNED_MAX
        and view.end - view.start >= WIDE_MIN_SEC
        and variation < WIDE_MAX_VARIATION
        and speed >= MOVING
        or variation < 0.08
        and speed >= 1.0
        and travel >= 2.0
    ):
        kind = VEHICLE
    else:
        kind = OTHER
    view.kind = kind
    view.speed_sizes = speed
    return view


def _alignment(view: TrackView) -> float:
    """How the box's shape follows the heading, as a rigid oblong's would: the median, over the frames it
    moved whole and on its own, of its aspect (height / width) over the aspect of a body twice as long as
    broad heading the same way (1: shaped like a vehicle driving that way; a person walking sideways
    is 2 to 4 times taller than that). 0 when it never moved so."""
    data = view.data
    rows = (data[:, MATCHED] > 0) & (data[:, SHARED] == 0) & (view.speed / view.length >= MOVING)
    if np.count_nonzero(rows) < 4:
        return 0.0
    sine = np.abs(view.vy[rows]) / np.maximum(view.speed[rows], 1e-6)
    cosine = np.sqrt(np.clip(1.0 - sine * sine, 0.0, 1.0))
    expected = (sine + RIGID_BREADTH * cosine) / (cosine + RIGID_BREADTH * sine)
    aspect = data[rows, H] / np.maximum(data[rows, W], 1.0)
    return float(np.median(aspect / expected))


def evidence(view: TrackView) -> Message:
    """Why a track got its class, in words for the log: shape, shape changes, travel and HOG's answer."""
    hog = "" if view.person_check is None else say("log.hog_yes" if view.person_check else "log.hog_no")
    return say(
        "log.track_evidence",
        track=view.id,
        kind=say(f"local.{view.kind}"),
        aspect=view.aspect,
        variation=view.variation,
        travel=view.travel,
        speed=view.speed_sizes,
        alignment=view.alignment,
        hog=hog,
    )


def _relative_spread(values: np.ndarray) -> float:
    median = float(np.median(values))
    return 1.4826 * float(np.median(np.abs(values - median))) / max(median, 1.0)


def _speed_between(view: TrackView, start: float, end: float) -> float | None:
    inside = view.between(start, end)
    return float(np.median(view.speed[inside])) if inside.any() else None


def _moved_whole(view: TrackView, start: float, end: float, frame: tuple[int, int] | None) -> float:
    """The median speed from `start` to `end` at which its box moved as a whole: per axis, over
    SPEED_SPAN_SEC either side of each row, the smaller move of its two sides when both moved the same
    way, else none (a side the frame's edge holds: the other side's move). A region whose top jumps as
    it splits moves its centre at speed while neither it nor anything in it goes anywhere; a car
    driving moves both its sides (one faster as it nears the camera)."""
    inside = np.nonzero(view.between(start, end))[0]
    if not len(inside):
        return 0.0
    data, t = view.data, view.t
    before = np.clip(t[inside] - SPEED_SPAN_SEC, t[0], t[-1])
    after = np.clip(t[inside] + SPEED_SPAN_SEC, t[0], t[-1])
    span = np.maximum(after - before, 1e-3)
    edges = _against_edges(data, frame) if frame is not None else None
    moves = []
    for axis, (low, extent) in enumerate(((X, W), (Y, H))):
        near, far = data[:, low], data[:, low] + data[:, extent]
        near_move = np.interp(after, t, near) - np.interp(before, t, near)
        far_move = np.interp(after, t, far) - np.interp(before, t, far)
        move = np.where(
            np.sign(near_move) == np.sign(far_move),
            np.sign(near_move) * np.minimum(np.abs(near_move), np.abs(far_move)),
            0.0,
        )
        if edges is not None:
            held_near, held_far = edges[axis][inside], edges[axis + 2][inside]
            move = np.where(held_near & ~held_far, far_move, np.where(held_far & ~held_near, near_move, move))
        moves.append(move / span)
    return float(np.median(np.hypot(*moves)))


def _direction_between(view: TrackView, start: float, end: float) -> np.ndarray | None:
    inside = view.between(start, end)
    if not inside.any():
        return None
    vector = np.array([view.vx[inside].mean(), view.vy[inside].mean()])
    norm = float(np.hypot(*vector))
    return vector / norm if norm > 1e-6 else None


def _one_way(view: TrackView, start: float, end: float) -> float:
    """How much its motion from `start` to `end` kept one way: the length of its mean velocity over its
    mean speed (1 for a straight drive; near 0 for a box jittering in place, whose speed is noise)."""
    inside = view.between(start, end)
    if not inside.any():
        return 0.0
    mean = float(np.hypot(view.vx[inside].mean(), view.vy[inside].mean()))
    return mean / max(float(view.speed[inside].mean()), 1e-6)


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    return math.degrees(math.acos(float(np.clip(np.dot(a, b), -1.0, 1.0))))


def _common(a: TrackView, b: TrackView) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The frames both tracks were seen in, with each one's indices there. Tracks that never meet in
    time (most pairs of an hour's tracks) are answered without sorting both."""
    if a.t[-1] < b.t[0] - 1e-4 or b.t[-1] < a.t[0] - 1e-4:  # apart by more than the rounding below
        return np.empty(0), np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    times, ia, ib = np.intersect1d(np.round(a.t, 4), np.round(b.t, 4), return_indices=True)
    return times, ia, ib


def _gaps(a: TrackView, b: TrackView, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """The distance between the two boxes (0 when they touch or overlap), per common frame."""
    ra, rb = a.data[ia], b.data[ib]
    dx = np.maximum(0.0, np.maximum(ra[:, X] - (rb[:, X] + rb[:, W]), rb[:, X] - (ra[:, X] + ra[:, W])))
    dy = np.maximum(0.0, np.maximum(ra[:, Y] - (rb[:, Y] + rb[:, H]), rb[:, Y] - (ra[:, Y] + ra[:, H])))
    return np.hypot(dx, dy)


def _one_region(a: TrackView, b: TrackView, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Per common frame, whether the two tracks were seen as one region: both shared a region and their
    boxes fit in one the tracker lets two tracks share (no larger than SHARED_GROWTH times the two
    boxes, `core.tracks`). Each may share a region with another track, far apart: in busy traffic one
    region merges two cars here, another two there, and those two tracks never touched."""
    ra, rb = a.data[ia], b.data[ib]
    both = (ra[:, SHARED] > 0) & (rb[:, SHARED] > 0)
    width = np.maximum(ra[:, X] + ra[:, W], rb[:, X] + rb[:, W]) - np.minimum(ra[:, X], rb[:, X])
    height = np.maximum(ra[:, Y] + ra[:, H], rb[:, Y] + rb[:, H]) - np.minimum(ra[:, Y], rb[:, Y])
    return both & (width * height <= SHARED_GROWTH * (ra[:, W] * ra[:, H] + rb[:, W] * rb[:, H]))


def _union(*boxes: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    left = min(b[0] for b in boxes)
    top = min(b[1] for b in boxes)
    right = max(b[0] + b[2] for b in boxes)
    bottom = max(b[1] + b[3] for b in boxes)
    return left, top, right - left, bottom - top


# --- the rules -----------------------------------------------------------------------------------


def collisions(views: list[TrackView], frame: tuple[int, int] | None = None) -> list[Finding]:
    """(See the module's docstring.) `frame`: the analysed frame's size, to tell a box its edge cuts."""
    found = []
    for a, b in _overlapping_pairs(views):
        times, ia, ib = _common(a, b)
        if len(times) < 3:
            continue
        gaps = _gaps(a, b, ia, ib)
        contact = (gaps <= 1.0) | _one_region(a, b, ia, ib)
        if not contact.any():
            continue
        first = int(np.argmax(contact))
        contact_time = float(times[first])
        if first == 0 or not (gaps[:first] > 2.0).any():
            continue  # they never were apart: one object seen as two, not two meeting
        # a flicker or a fragment that just appeared is not a road user (the slack: four frames at 10 a
        # second are 0.4 s, whatever the rounding)
        seen = min(_seen_alone(v, contact_time, within=COLLISION_RECENT_SEC) for v in (a, b))
        if seen < COLLISION_KNOWN_SEC - 1e-6:
            continue
        size = min(a.length, b.length)
        recent = max(0, first - 8)
        distance = np.hypot(a.cx[ia] - b.cx[ib], a.cy[ia] - b.cy[ib])
        elapsed = max(float(times[first] - times[recent]), 1e-3)
        approach = float(distance[recent] - distance[first]) / elapsed / size
        if approach < COLLISION_APPROACH:
            continue
        best = None
        for view in (a, b):
            before = _speed_between(view, contact_time - 0.8, contact_time - 0.1)
            if before is None or before / view.length < COLLISION_FAST:
                continue
            if _moved_whole(view, contact_time - 0.8, contact_time - 0.1, frame) / view.length < STILL:
                continue  # its centre moved as its box changed shape (a region splitting): it stood
            after = _speed_between(view, contact_time + 0.2, contact_time + 0.8)
            heading_before = _direction_between(view, contact_time - 0.8, contact_time - 0.1)
            heading_after = _direction_between(view, contact_time + 0.2, contact_time + 0.8)
            partner = b if view is a else a
            if after is None and _absorbed(view, partner, views, contact_time, before):
                after = 0.0  # it ran into the other's region and stopped there: the wreck is one region
            if after is None or _passed_by(view, contact_time, before, heading_before):
                continue
            if frame is not None and _left_the_picture(view, contact_time, frame, heading_before):
                continue  # driving out of the picture: the edge stopped its box, not a hit
            partner_heading = _direction_between(partner, contact_time - 0.8, contact_time - 0.1)
            if _took_over(view, partner, contact_time, heading_before) or _took_over(
                partner, view, contact_time, partner_heading
            ):
                continue  # one track came out of the meeting on the other's vehicle, which drove on: no hit
            slowdown = 1.0 - after / before
            turn = (
                _angle(heading_before, heading_after)
                if heading_before is not None
                and heading_after is not None
                and 0.3 * before <= after <= before  # a hit takes speed: a turn that speeds up is steering
                else 0.0
            )
            strength = max(slowdown / COLLISION_SLOWDOWN, turn / COLLISION_TURN_DEG)
            if strength >= 1.0 and (best is None or strength > best[0]):
                best = (strength, view, before, after, slowdown, turn)
        if best is None:
            continue
        if VEHICLE not in (a.kind, b.kind):
            continue  # people (or unknown regions) walking up to each other and stopping is a meeting
        strength, view, before, after, slowdown, turn = best
        other = b if view is a else a
        other_before = _speed_between(other, contact_time - 0.8, contact_time - 0.1)
        if _went_on_at_speed(other, contact_time, other_before):
            continue  # a hit that stops (or turns) one takes the other's speed too: the other passed
        if other_before is None or other_before / other.length < STILL:
            continue  # it drew into one standing there (a stopped vehicle's region, a queue): lost there, no hit
        box = _union(a.box_at(contact_time), b.box_at(contact_time))
        if not _wreck_stays(views, box, contact_time, (a, b)):
            continue  # nothing stands where they met: both drove on (a brush, or two tracks crossing)
        settled = contact_time + 1.0
        calm = view.between(contact_time, contact_time + 2.0) & (view.speed <= 0.4 * before)
        if calm.any():
            settled = float(view.t[calm][0])
        found.append(
            Finding(
                "COLLISION",
                start=max(a.start, b.start, contact_time - 0.5),
                end=max(settled, contact_time + 0.2),
                peak=contact_time,
                track_ids=[a.id, b.id],
                strength=strength,
                box=box,
                facts={
                    **_pair_facts(a, b),
                    "approach": approach,
                    "before": before / view.length,
                    "after": after / view.length,
                    "slowdown": slowdown,
                    "turn": turn,
                    "who": view.id,
                    **_collision_wording(slowdown, turn),
                },
            )
        )
    return found


def _collision_wording(slowdown: float, turn: float) -> dict[str, str]:
    """Which of its measures made the hit, so the description names only those (never "turned 0°")."""
    if turn < COLLISION_TURN_DEG:
        return {}
    return {"how": "turned" if slowdown < COLLISION_SLOWDOWN else "slowed_and_turned"}


def _left_the_picture(
    view: TrackView, contact: float, frame: tuple[int, int], heading: np.ndarray | None
) -> bool:
    """Whether, 0.2–0.8 s after the contact, the track's box lay against the edge of the frame that its
    heading before pointed out through (within 60° of it), in most rows: a vehicle driving out of the
    picture is squeezed against the edge, its box's centre slowing as the box shrinks, so its seeming
    stop says nothing of a hit. (A wreck near the camera may reach an edge it was not heading for.)"""
    rows = view.between(contact + 0.2, contact + 0.8)
    if heading is None or not rows.any():
        return False
    left, top, right, bottom = _against_edges(view.data[rows], frame)
    out = np.zeros(len(left), dtype=bool)
    for against, outward in (
        (left, -heading[0]),
        (top, -heading[1]),
        (right, heading[0]),
        (bottom, heading[1]),
    ):
        if outward >= 0.5:
            out |= against
    return float(np.mean(out)) > 0.5


def _pair_facts(a: TrackView, b: TrackView) -> dict[str, float | str]:
    """The two tracks of a pair event and their classes, as its description names them."""
    return {"a": a.id, "b": b.id, "kind_a": a.kind, "kind_b": b.kind}


def _absorbed(
    view: TrackView, other: TrackView, views: list[TrackView], contact: float, before: float
) -> bool:
    """Its track ended within COLLISION_ABSORBED_SEC of meeting the other, which was moving and goes on
    slower than driving and at half its speed or less (the two stand as one region, a wreck), or at any
    speed below driving when both are vehicles and the other was driving, but already slower than
    COLLISION_FAST (its region merged with something before they met: it had little speed left to
    lose), and nothing came out of that region at its old speed and heading within 1.5 s (it passed
    behind or over the other, seen again as a new track)."""
    if view.end > contact + COLLISION_ABSORBED_SEC:
        return False
    other_before = _speed_between(other, contact - 0.8, contact - 0.1)
    after_track = other if other.end >= contact + 0.8 else _wreck(view, other, views, contact)
    if after_track is None:
        return False
    other_after = _speed_between(after_track, contact + 0.2, contact + 0.8)
    if other_before is None or other_after is None or other_before / other.length < STILL:
        return False  # it ran into something standing: traffic merging with a stopped vehicle's region
    if other_after / other.length >= MOVING:
        return False  # the other drove on
    already_slow = (
        MOVING <= other_before / other.length < COLLISION_FAST and view.kind == other.kind == VEHICLE
    )
    if other_after > COLLISION_ABSORBED_SLOWED * other_before and not already_slow:
        return False  # the other was not slowed by it
    heading = _direction_between(view, contact - 0.8, contact - 0.1)
    x, y = float(view.cx[-1]), float(view.cy[-1])
    for later in views:
        if later.id in (view.id, other.id) or not contact < later.start <= contact + 1.5:
            continue
        if math.hypot(float(later.cx[0]) - x, float(later.cy[0]) - y) > 1.5 * view.length:
            continue
        if _drove_on(later, later.start, later.start + 0.5, before, heading):
            return False
    return True


def _wreck_stays(
    views: list[TrackView],
    box: tuple[float, float, float, float],
    contact: float,
    pair: tuple[TrackView, TrackView],
) -> bool:
    """One of the pair, or a track begun at the contact (COLLISION_WRECK_BEGUN_SEC: the two seen as one
    region), stays on the contact box for COLLISION_WRECK_SEC within COLLISION_WRECK_AFTER_SEC after
    contact, its centre ending up less than STILL sizes a second from where it was: crashed vehicles stay
    where they crashed; a meeting that both drive on (or creep on) from leaves nothing standing there but
    perhaps a bystander, which is no wreck. The centre's net move, not its speed frame by frame: a
    wreck's region jitters as passing traffic merges with it and leaves, and its centre comes back."""
    x, y, w, h = box
    start, end = contact + COLLISION_WRECK_AFTER_SEC[0], contact + COLLISION_WRECK_AFTER_SEC[1]
    for view in views:
        begun_there = COLLISION_WRECK_BEGUN_SEC[0] <= view.start - contact <= COLLISION_WRECK_BEGUN_SEC[1]
        if not (begun_there or any(view is member for member in pair)):
            continue  # a bystander standing there (parked, or slowing after a close pass) is no wreck
        rows = view.between(start, end)
        if not rows.any():
            continue
        data = view.data[rows]
        on_box = (
            (data[:, X] < x + w)
            & (data[:, X] + data[:, W] > x)
            & (data[:, Y] < y + h)
            & (data[:, Y] + data[:, H] > y)
        )
        times, cx, cy = view.t[rows], view.cx[rows], view.cy[rows]
        for run in _runs(times, on_box, max_dip=0):
            ends = np.searchsorted(times[run], times[run] + COLLISION_WRECK_SEC - 1e-6)
            for i, end_index in zip(run, ends):
                if end_index >= len(run):
                    break
                j = run[end_index]
                moved = math.hypot(cx[j] - cx[i], cy[j] - cy[i]) / (times[j] - times[i]) / view.length
                if moved < STILL:
                    return True
    return False


def _wreck(view: TrackView, other: TrackView, views: list[TrackView], contact: float) -> TrackView | None:
    """When both tracks ended as they met: the track that began there within COLLISION_ABSORBED_SEC
    (the two as one region) and lasted a second."""
    x = (float(view.cx[-1]) + float(other.cx[-1])) / 2
    y = (float(view.cy[-1]) + float(other.cy[-1])) / 2
    for later in views:
        if (
            contact <= later.start <= contact + COLLISION_ABSORBED_SEC
            and later.end >= contact + 1.0
            and math.hypot(float(later.cx[0]) - x, float(later.cy[0]) - y) <= max(view.length, other.length)
        ):
            return later
    return None


def _seen_alone(view: TrackView, time: float, within: float = np.inf) -> float:
    """Seconds the track was seen on its own (matched, not sharing a region) before `time`, in the last
    `within` seconds only if given. A collision asks for the last COLLISION_RECENT_SEC: its speed and
    heading before are measured then, and a track that was only a share of a region merged with others
    (the tracker holds its box at one place in it), or a box carried on unseen, has no speed or heading
    of its own to lose (seen on its own seconds earlier, it may be anywhere by now)."""
    alone = (
        (view.t < time)
        & (view.t >= time - within)
        & (view.data[:, MATCHED] > 0)
        & (view.data[:, SHARED] == 0)
    )
    return float(np.count_nonzero(alone)) * _mean_step(view)


def _passed_by(view: TrackView, contact: float, before: float, heading: np.ndarray | None) -> bool:
    """The track came out of the shared region within 1.5 s at its old speed and heading: it passed
    over or behind the other (overlap in the picture), it did not hit it."""
    later = (
        (view.t > contact)
        & (view.t <= contact + 1.5)
        & (view.data[:, SHARED] == 0)
        & (view.data[:, MATCHED] > 0)
    )
    if not later.any():
        return False
    out = float(view.t[later][0])
    return _drove_on(view, out + 0.2, out + 0.7, before, heading)


def _drove_on(view: TrackView, start: float, end: float, before: float, heading: np.ndarray | None) -> bool:
    """From `start` to `end` the track moved at 0.6 or more of its old speed (`before`) and within 45° of
    its old heading: what it was doing before it met the other, unchanged."""
    speed = _speed_between(view, start, end)
    direction = _direction_between(view, start, end)
    if speed is None or direction is None or heading is None:
        return False
    return speed >= 0.6 * before and _angle(direction, heading) <= 45.0


def _went_on_at_speed(view: TrackView, contact: float, before: float | None) -> bool:
    """Right after the contact (0.2–0.8 s) the track moved at COLLISION_FAST sizes a second or more and
    kept COLLISION_KEPT of its speed before, whatever its heading (its region may still be merged with
    the other's, its box lurching): a vehicle in a hit hard enough to stop or turn the other loses speed
    too, so this one passed it or drove through a merged region, it was not hit."""
    after = _speed_between(view, contact + 0.2, contact + 0.8)
    if before is None or after is None:
        return False
    return after / view.length >= COLLISION_FAST and after >= COLLISION_KEPT * before


def _took_over(view: TrackView, other: TrackView, contact: float, heading: np.ndarray | None) -> bool:
    """After they met, the track moved as the other, on a crossing path, had moved before: the two were one
    region and the track came out of it on the other vehicle, which drove on unchanged; what looks like
    the track's sharp turn is the other's heading, not a hit."""
    other_before = _speed_between(other, contact - 0.8, contact - 0.1)
    other_heading = _direction_between(other, contact - 0.8, contact - 0.1)
    if other_before is None or other_heading is None or heading is None:
        return False
    if _angle(heading, other_heading) < NEAR_MISS_CROSSING_DEG:
        return False  # one behind the other: a hit from behind leaves the front one's heading
    return _drove_on(view, contact + 0.2, contact + 0.8, other_before, other_heading)


def _established(view: TrackView, time: float, frame: tuple[int, int]) -> bool:
    """A road user before `time`: seen on its own for NEAR_MISS_KNOWN_SEC, its box's longer side steady
    over the second before (from one frame to the next it changes, typically, by less than
    NEAR_MISS_STEADY a second on a log scale), as a rigid body's is: the box of a fragment of
    something jumping about grows and shrinks by half or more each frame. A side the `frame`'s edge
    cuts is not the object's: a vehicle driving in shows a box growing out of the edge, so where the
    edge cuts one axis the other's side is compared, between frames cut alike."""
    if _seen_alone(view, time) < NEAR_MISS_KNOWN_SEC:
        return False
    own = (view.t >= time - 1.0) & (view.t < time) & (view.data[:, MATCHED] > 0) & (view.data[:, SHARED] == 0)
    data = view.data[own]
    left, top, right, bottom = _against_edges(data, frame)
    cut_x, cut_y = left | right, top | bottom
    longer = np.where(cut_x, data[:, H], np.where(cut_y, data[:, W], np.maximum(data[:, W], data[:, H])))
    sides = np.log(np.maximum(longer, 1.0))
    if len(sides) < 3:
        return False
    alike = (cut_x[1:] == cut_x[:-1]) & (cut_y[1:] == cut_y[:-1]) & ~(cut_x & cut_y)[1:]
    if not alike.any():
        return False
    rates = np.abs(np.diff(sides)) / np.maximum(np.diff(view.t[own]), 1e-3)
    return float(np.median(rates[alike])) < NEAR_MISS_STEADY


def near_misses(
    views: list[TrackView], collided: set[frozenset[int]], frame: tuple[int, int]
) -> list[Finding]:
    """(See the module's docstring.) `frame`: the analysed frame's size, to tell a box its edge cuts."""
    found = []
    for a, b in _overlapping_pairs(views):
        if frozenset((a.id, b.id)) in collided or VEHICLE not in (a.kind, b.kind):
            continue
        times, ia, ib = _common(a, b)
        if len(times) < 3:
            continue
        gaps = _gaps(a, b, ia, ib)
        if (gaps <= 1.0).any() or _one_region(a, b, ia, ib).any():
            touched = _touched_and_drove_on(a, b, views, times, ia, ib, gaps, frame)
            if touched is not None:
                found.append(touched)
            continue
        closest = int(np.argmin(gaps))
        when = float(times[closest])
        if closest == 0:
            continue  # closest where one began: it came out of the other's region, it never closed in
        if not all(_established(view, when, frame) for view in (a, b)):
            continue  # a fragment that flickered into view beside it, of whatever class, is no road user
        short_side = min(
            min(a.data[ia[closest], W], a.data[ia[closest], H]),
            min(b.data[ib[closest], W], b.data[ib[closest], H]),
        )
        limit = NEAR_MISS_GAP * max(short_side, 1.0)
        if gaps[closest] > limit:
            continue
        size = min(a.length, b.length)
        speed_a, speed_b = float(a.speed[ia[closest]]), float(b.speed[ib[closest]])
        relative = math.hypot(a.vx[ia[closest]] - b.vx[ib[closest]], a.vy[ia[closest]] - b.vy[ib[closest]])
        if not _passing_at_speed((a, speed_a), (b, speed_b), relative / size):
            continue  # not fast, or one stands (a parked car, someone waiting): no path crossed at speed
        heading_a = _direction_between(a, when - 0.5, when)
        heading_b = _direction_between(b, when - 0.5, when)
        if heading_a is None or heading_b is None:
            continue
        crossing = _angle(heading_a, heading_b)
        if not NEAR_MISS_CROSSING_DEG <= crossing <= 180.0 - NEAR_MISS_CROSSING_DEG:
            continue  # side by side or in opposite lanes: traffic passing, paths that never crossed
        kept_going = True
        for view, speed in ((a, speed_a), (b, speed_b)):
            after = _speed_between(view, when + 0.2, when + 1.0)
            if after is None or after < 0.5 * speed:
                kept_going = False  # slowed down, or its track ended there: nothing says it went on
        if not kept_going:
            continue
        near = times[gaps <= 2 * limit]
        found.append(
            Finding(
                "NEAR_MISS",
                start=float(near.min()),
                end=max(float(near.max()), when + 0.1),
                peak=when,
                track_ids=[a.id, b.id],
                strength=min(limit / max(float(gaps[closest]), 0.25 * limit), 4.0)
                * min(relative / size, 3.0),
                box=_union(a.box_at(when), b.box_at(when)),
                facts={
                    **_pair_facts(a, b),
                    "gap_share": float(gaps[closest]) / max(short_side, 1.0),
                    "relative": relative / size,
                },
            )
        )
    return found


def _passing_at_speed(a: tuple[TrackView, float], b: tuple[TrackView, float], relative: float) -> bool:
    """Two tracks (each with its speed, px/s) pass each other at speed: the faster at NEAR_MISS_FAST sizes
    a second or more, past each other at NEAR_MISS_RELATIVE (`relative`, in the smaller one's sizes),
    and each moving, at MOVING or more (a person-like one faster than a walk, NEAR_MISS_FAST): a
    standing or creeping one (a parked car, someone waiting at the kerb, a region a vehicle swept
    over) has no path of its own to cross, whatever its box's jitter says its heading is."""
    fastest = max(speed / view.length for view, speed in (a, b))
    if fastest < NEAR_MISS_FAST or relative < NEAR_MISS_RELATIVE:
        return False
    return all(
        speed / view.length >= (NEAR_MISS_FAST if view.kind == PERSON else MOVING) for view, speed in (a, b)
    )


def _touched_and_drove_on(
    a: TrackView,
    b: TrackView,
    views: list[TrackView],
    times: np.ndarray,
    ia: np.ndarray,
    ib: np.ndarray,
    gaps: np.ndarray,
    frame: tuple[int, int],
) -> Finding | None:
    """A NEAR_MISS seen as a touch: two established road users on crossing paths, apart and closing in at
    speed, whose boxes meet or become one region (a gap of a few pixels is none at a small analysis
    width), and both drove on: each one's old speed and heading is taken up again within a second, by
    its own track, the other's (the region split the wrong way) or a track that began where they met.
    One that stops or turns is a collision's part, and no track carries its old motion on."""
    contact = (gaps <= 1.0) | _one_region(a, b, ia, ib)
    first = int(np.argmax(contact))
    if first == 0 or not (gaps[:first] > 2.0).any():
        return None  # never apart: one object seen as two
    when = float(times[first])
    if not (_established(a, when, frame) and _established(b, when, frame)):
        return None  # touching, both must be road users: fragments of a fight or a crowd merge all the time
    motions = []
    for view in (a, b):
        speed = _speed_between(view, when - 0.8, when - 0.1)
        heading = _direction_between(view, when - 0.8, when - 0.1)
        if speed is None or heading is None or _one_way(view, when - 0.8, when - 0.1) < NEAR_MISS_ONE_WAY:
            return None  # no motion, or a fragment jittering about: no path of its own to cross
        motions.append((view, speed, heading))
    (_, speed_a, heading_a), (_, speed_b, heading_b) = motions
    crossing = _angle(heading_a, heading_b)
    if not NEAR_MISS_TOUCH_CROSSING_DEG <= crossing <= 180.0 - NEAR_MISS_TOUCH_CROSSING_DEG:
        return None  # side by side or in opposite lanes: traffic passing (merged as it passes)
    size = min(a.length, b.length)
    relative = float(np.hypot(*(speed_a * heading_a - speed_b * heading_b)))
    if not _passing_at_speed((a, speed_a), (b, speed_b), relative / size):
        return None  # standing, creeping or walking: a region a vehicle swept over, people passing
    pair = (a.id, b.id)
    carriers = [_carriers(view, speed, heading, pair, views, when) for view, speed, heading in motions]
    if not any(first != second for first in carriers[0] for second in carriers[1]):
        return None  # one of them did not drive on (or one track is all there is of both)
    return Finding(
        "NEAR_MISS",
        start=when - 0.2,
        end=when + 0.3,
        peak=when,
        track_ids=[a.id, b.id],
        strength=4.0 * min(relative / size, 3.0),
        box=_union(a.box_at(when), b.box_at(when)),
        facts={
            **_pair_facts(a, b),
            "gap_share": 0.0,  # they touched: as close as a pass gets (severity 2)
            "relative": relative / size,
            "crossing": crossing,
            "how": "touched",
        },
    )


def _carriers(
    view: TrackView,
    speed: float,
    heading: np.ndarray,
    pair: tuple[int, int],
    views: list[TrackView],
    contact: float,
) -> list[int]:
    """The tracks that carried the view's old motion (`speed`, `heading`) on for half a second, from a frame
    within a second of `contact` where it was on its own (the merged region's box lurches as it splits):
    one of the pair, or one that began within two lengths of where the view would have been by then,
    driving on as before from where it was last seen on its own (a vehicle seen again after a few
    tenths of a second, its region lost beside the other's, is lengths further on; the box of a region
    merging lurches); none when none did."""
    own = (view.t <= contact) & (view.data[:, MATCHED] > 0) & (view.data[:, SHARED] == 0)
    last = int(np.flatnonzero(own)[-1]) if own.any() else int(np.argmin(np.abs(view.t - contact)))
    x, y, seen = float(view.cx[last]), float(view.cy[last]), float(view.t[last])
    found = []
    for later in views:
        if later.id not in pair:
            if not contact < later.start <= contact + 1.0:
                continue
            ahead = speed * (later.start - seen)
            x_then, y_then = x + heading[0] * ahead, y + heading[1] * ahead
            if math.hypot(float(later.cx[0]) - x_then, float(later.cy[0]) - y_then) > 2.0 * view.length:
                continue
        alone = (
            (later.t > contact)
            & (later.t <= contact + 1.0)
            & (later.data[:, SHARED] == 0)
            & (later.data[:, MATCHED] > 0)
        )
        if any(_drove_on(later, float(out), float(out) + 0.5, speed, heading) for out in later.t[alone]):
            found.append(later.id)
    return found


def falls(
    views: list[TrackView], size: tuple[int, int], tracking_began: float | None = None
) -> list[Finding]:
    """A track standing upright whose moving part drops from its upright height to its lower half fast
    and turns wide (or swept wide on the way), one body's size, near where it stood, and then stays low
    and lies there. Near where it stood: its feet stay put, or, when a standing person's region is
    only part of the body (parts of the ground's grey vanish into it: legs, a head), it stood still
    before and went down sideways (then the region's bottom drops too, and its centre moves aside;
    such a region need not turn wide when its top sank below where its bottom stood).
    A track that began falling (`_began_falling`) stands, unseen, where its first moving part was.
    The body often lands as a region of its own: the fall goes on in a track that took the standing
    one's motion over (`_taken_over`). `tracking_began`: when the engine began making tracks (by
    default, when the first track began)."""
    found = []
    tracking_began = _tracking_began(views, tracking_began)
    for view in views:
        if len(view.t) < 6:
            continue
        data = view.data
        upright = (data[:, H] >= 1.2 * data[:, W]) & (data[:, MATCHED] > 0)
        upright &= data[:, H] >= FALL_MIN_HEIGHT * size[1]
        upright &= inside_frame(data, size)  # a box the frame's edge cuts changes shape as it leaves
        upright &= data[:, H] >= 0.8 * _recent_height(view, upright)
        standing = [
            i for i in np.flatnonzero(upright) if np.count_nonzero(upright[max(0, i - 3) : i + 1]) >= 3
        ]
        unseen = _began_falling(view, size, tracking_began)
        if unseen and _passed_through(view, views, tracking_began):
            unseen = False  # that place was open: traffic drove through it, nobody stood there
        for i in [0, *standing] if unseen else standing:  # (upright for a moment is not standing)
            if unseen and i == 0:
                stance = _first_stance(view)
            else:
                top, height = data[i, Y], data[i, H]
                stance = _Stance(float(view.t[i]), top, height, view.cx[i], _stood_still(view, i, height))
            landed = None
            for path in [[view], *([view, later] for later in _taken_over(view, views, stance))]:
                landed = _landing(path, stance, size)
                if landed is not None and _lies_there(*landed, stance) and not _left_there(stance, *landed):
                    break
                landed = None
            if landed is None:
                continue
            seen, j = landed
            drop = (seen.data[j, MY] - stance.top) / stance.height
            box = (
                float(seen.data[j, X]),
                float(seen.data[j, Y]),
                float(seen.data[j, W]),
                float(seen.data[j, H]),
            )
            found.append(
                Finding(
                    "FALL",
                    start=stance.time,
                    end=float(seen.t[j]) + 0.1,
                    peak=float(seen.t[j]),
                    track_ids=sorted({view.id, seen.id}),
                    strength=drop / FALL_DROP,
                    box=box,
                    facts={
                        "track": view.id,
                        "kind": view.kind,
                        "drop": drop,
                        "seconds": float(seen.t[j]) - stance.time,
                    },
                )
            )
            break
    return _first_per_track(found)


@dataclass
class _Stance:
    """A body standing, as a fall is judged from it: when, its region's top, height and centre, and
    whether it stood still as its own region (`_stood_still`)."""

    time: float
    top: float
    height: float
    centre: float
    stood: bool
    first_seen: tuple[float, float] | None = None  # unseen standing: its first moving parts' left, right

    @property
    def bottom(self) -> float:
        return self.top + self.height


def _landing(path: list[TrackView], stance: _Stance, size: tuple[int, int]) -> tuple[TrackView, int] | None:
    """The first (track, row) of `path` (`_path_rows`) where the fall from `stance` lands: the moving
    part moved from up high to the lower half of the upright height fast, turned wide (or swept wide on
    the way; or, a part-seen body gone down sideways in its own track, its top sank below where its
    bottom stood), near where it stood, one body's size, whole inside the picture."""
    top0, height0 = stance.top, stance.height
    last_high = None
    swept = False
    for seen, j in _path_rows(path, stance.time, stance.time + FALL_MAX_SEC):
        row = seen.data[j]
        if row[MY] <= top0 + 0.3 * height0:  # it moved from up high ...
            last_high = seen.t[j]
        # ... to its lower half, fast
        low = last_high is not None and row[MY] >= top0 + FALL_DROP * height0
        fast = low and seen.t[j] - last_high <= FALL_DROP_SEC
        wide = row[MW] >= FALL_WIDE * row[MH] and row[MW] >= 0.5 * height0
        # or, on its way down, its moving part swept wide across a whole upright height
        swept |= wide and last_high is not None and row[MW] >= FALL_SWEEP * height0
        aside = abs(seen.cx[j] - stance.centre)
        sideways = stance.stood and aside >= FALL_SIDEWAYS * height0
        feet = abs(row[Y] + row[H] - stance.bottom) <= 0.3 * height0 or sideways
        # a standing region that is only part of the body (legs in the ground's grey) need not turn
        # wide as it lies (arms reach up, the legs stay unseen): its top sank below where its bottom stood
        sunk = seen is path[0] and sideways and row[MY] >= stance.bottom
        in_place = aside <= (FALL_ASIDE if stance.stood else 1.0) * height0
        one_body = row[H] <= FALL_ONE_BODY[0] * height0 and row[W] <= FALL_ONE_BODY[1] * height0
        # a track that took over is the body lying: all of it low, a body's length
        lying = seen is path[0] or (
            row[Y] >= top0 + FALL_DROP * height0 and max(row[W], row[H]) >= FALL_LYING_LENGTH * height0
        )
        whole = inside_frame(seen.data[j : j + 1], size)[0]
        if fast and (wide or swept or sunk) and feet and in_place and one_body and lying and whole:
            return seen, j
    return None


def _taken_over(view: TrackView, views: list[TrackView], stance: _Stance) -> list[TrackView]:
    """Tracks that took `view`'s motion over as it fell from `stance`: each began moving within
    FALL_MAX_SEC, after which `view`'s region moved no more (it ended, or stood as what the body
    left). A body that goes down out of its standing region is often seen as a new region where it
    lands: a fall seen as two tracks."""
    taken = []
    for other in views:
        if other.id == view.id or not stance.time < other.start <= stance.time + FALL_MAX_SEC:
            continue
        if other.data[0, MW] > 0 and not np.any(view.data[view.t > other.start + 1e-6, MW] > 0):
            taken.append(other)
    return taken


def _path_rows(path: list[TrackView], begun: float, until: float) -> list[tuple[TrackView, int]]:
    """The moving rows a fall is followed in, after `begun` up to `until`: each track's of `path` until
    the next one began."""
    rows = []
    for k, seen in enumerate(path):
        end = path[k + 1].start - 1e-6 if k + 1 < len(path) else until
        moving = (seen.t > begun) & (seen.t <= end) & (seen.data[:, MW] > 0)
        rows += [(seen, int(j)) for j in np.flatnonzero(moving)]
    return rows


def _lies_there(view: TrackView, row: int, stance: _Stance) -> bool:
    """From `row` on, for FALL_AFTER_SEC, the body stays low (its moving part below the upper part of
    its upright height) and lies there (not carried on; a body settling as it lands moves a moment)."""
    after = view.between(view.t[row], view.t[row] + FALL_AFTER_SEC)
    later = view.data[after]
    stays_low = bool(np.all((later[:, MW] == 0) | (later[:, MY] >= stance.top + 0.4 * stance.height)))
    lasts = view.end - view.t[row] >= FALL_AFTER_SEC * 0.8
    return stays_low and lasts and float(np.median(view.speed[after])) <= STILL * stance.height


def _recent_height(view: TrackView, rows: np.ndarray) -> np.ndarray:
    """Per row of `rows` (else 0): how tall its box was (90th percentile of the rows seen) over the
    FALL_TALL_SEC before it. Against that, not the whole track's, a standing person is judged whole: a
    walker's region is often taller than the same person's standing still (moving legs stand out of
    the ground; still ones fade into it), and a region merged with another for a while is taller still."""
    data = view.data
    tallest = np.zeros(len(data))
    seen = data[:, MATCHED] > 0
    for k in np.flatnonzero(rows):
        first = int(np.searchsorted(view.t, view.t[k] - FALL_TALL_SEC - 1e-6))
        heights = data[first : k + 1, H][seen[first : k + 1]]
        tallest[k] = float(np.percentile(heights, 90)) if len(heights) else data[k, H]
    return tallest


def _tracking_began(views: list[TrackView], given: float | None) -> float:
    """When the engine began making tracks; without it (tracks made elsewhere), the first track's start."""
    return given if given is not None else min((view.start for view in views), default=0.0)


def _began_falling(view: TrackView, size: tuple[int, int], tracking_began: float) -> bool:
    """The track came into being moving, whole inside the picture, when tracking had been going for
    FALL_STOOD_SEC, and its first moving part (`_first_stance`, the body as it stood) is person-sized:
    someone who stood there from the start was learnt into the background (core.tracks' warm-up) and
    is first seen as they fall (often a sliver of them first)."""
    data = view.data
    return bool(
        view.start >= tracking_began + FALL_STOOD_SEC
        and data[0, MW] > 0
        and inside_frame(data[:1], size)[0]
        and _first_stance(view).height >= FALL_MIN_HEIGHT * size[1]
    )


def _passed_through(view: TrackView, views: list[TrackView], tracking_began: float) -> bool:
    """Whether another track drove through where the falling one first stood (its box covering half of
    that place or more, moving) after tracking began and before it came into being: traffic passing
    there shows that place was open, nobody stood there learnt into the background."""
    stance = _first_stance(view)
    left, right = stance.first_seen
    place = (left, stance.top, right - left, stance.height)
    for other in views:
        if other.id == view.id or other.start >= view.start or other.end <= tracking_began:
            continue
        rows = (other.t >= tracking_began) & (other.t < view.start) & (other.speed / other.length >= MOVING)
        for row in other.data[rows]:
            if cover(tuple(row[X : H + 1]), place) >= 0.5:
                return True
    return False


def _first_stance(view: TrackView) -> _Stance:
    """The moving part in the first FALL_FIRST_SEC of a track that began falling, as the body standing
    (as near as it was seen): its top, height, centre, and how far across it reached."""
    data = view.data
    first = view.between(view.start, view.start + FALL_FIRST_SEC) & (data[:, MW] > 0)
    top, bottom = float(data[first, MY].min()), float((data[first, MY] + data[first, MH]).max())
    across = (float(data[first, MX].min()), float((data[first, MX] + data[first, MW]).max()))
    centre = float(np.median(view.cx[first]))
    return _Stance(view.start, top, bottom - top, centre, stood=True, first_seen=across)


def _left_there(stance: _Stance, view: TrackView, row: int) -> bool:
    """Where a track that began falling landed lies inside what its first moving parts spanned: that is
    the place someone learnt into the background stood and left, walking off (a "ghost" stands there
    as the first of them did), not a body that fell: one lies beside or below where it stood."""
    if stance.first_seen is None:
        return False
    x, y, w, h = view.data[row, X : H + 1]
    left, right = stance.first_seen
    return bool(
        x >= left - 1.0 and x + w <= right + 1.0 and y >= stance.top - 1.0 and y + h <= stance.bottom + 1.0
    )


def _stood_still(view: TrackView, row: int, height: float) -> bool:
    """The track stood still, seen as its own region, for FALL_STOOD_SEC before `row`."""
    if view.t[row] - view.start < FALL_STOOD_SEC:
        return False
    data = view.data
    before = view.between(view.t[row] - FALL_STOOD_SEC, view.t[row])
    alone = (data[before, MATCHED] > 0) & (data[before, SHARED] == 0)
    return bool(np.all(alone) and np.all(view.speed[before] <= STILL * height))


def inside_frame(data: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Per row: the box keeps clear of the frame's edges (its shape is the object's, not the edge's)."""
    left, top, right, bottom = _against_edges(data, size)
    return ~(left | top | right | bottom)


def _against_edges(
    data: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row, whether the box's left, top, right and bottom sides lie within EDGE_PX of the frame's
    edge (cut by it: the object may go on beyond)."""
    width, height = size
    return (
        data[:, X] <= EDGE_PX,
        data[:, Y] <= EDGE_PX,
        data[:, X] + data[:, W] >= width - EDGE_PX,
        data[:, Y] + data[:, H] >= height - EDGE_PX,
    )


def _first_per_track(found: list[Finding]) -> list[Finding]:
    seen: set[int] = set()
    kept = []
    for finding in found:
        if finding.track_ids[0] not in seen:
            seen.add(finding.track_ids[0])
            kept.append(finding)
    return kept


def fights(views: list[TrackView], size: tuple[int, int]) -> list[Finding]:
    """Places where person-sized regions move strongly, back and forth, without going anywhere, for a
    second or more. Followed as a place, not as one track: grappling people split and merge, and
    their tracks change hands; every track that took part is named."""
    found = []
    for site in _fight_sites(views, size):
        spans = [span for span in _fight_spans(site, size) if span is not None]
        merged: list[list] = []
        for span in spans:  # overlapping windows that qualify are one fight
            if merged and span[0] <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], span[1])
                merged[-1][2] = max(merged[-1][2], span[2])
            else:
                merged.append(list(span))
        times = np.array(site["times"])
        for first, last, back_and_forth in merged:
            inside = np.flatnonzero((times >= times[first]) & (times <= times[last]))
            tracks = sorted(set().union(*(site["members"][k] for k in inside)))
            motions = np.array(site["motion"])[inside]
            peak = int(inside[np.argmax(motions)])
            seconds = float(times[last] - times[first])
            motion = float(np.median(motions))
            found.append(
                Finding(
                    "FIGHT",
                    start=float(times[first]),
                    end=float(times[last]),
                    peak=float(times[peak]),
                    track_ids=tracks,
                    strength=min(motion / FIGHT_MOTION, 3.0) * min(seconds / FIGHT_MIN_SEC, 2.0),
                    box=tuple(float(v) for v in site["boxes"][peak]),
                    facts={
                        "tracks": len(tracks),
                        "motion": motion,
                        "seconds": seconds,
                        "back_and_forth": back_and_forth,
                    },
                )
            )
    return found


def _fight_sites(views: list[TrackView], size: tuple[int, int]) -> list[dict]:
    """The places where person-sized regions (any track but a vehicle's) moved strongly, seen whole
    (a region the picture's edge cuts grows and shrinks as its object goes out and in: neither its
    motion nor its place is the object's), followed from frame to frame: per frame, the strongly moving
    regions close together (`_together`) are one box, which goes on the place whose last box it
    overlaps; a place unfed for 0.6 s is over."""
    per_frame: dict[float, list[tuple[TrackView, int]]] = {}
    for view in views:
        if view.kind == VEHICLE:
            continue
        data = view.data
        area = np.maximum(data[:, W] * data[:, H], 1.0)
        strong = (data[:, MOTION] / area >= FIGHT_MOTION) & (data[:, MATCHED] > 0)
        strong &= (data[:, H] >= FALL_MIN_HEIGHT * size[1]) & inside_frame(data, size)
        for k in np.flatnonzero(strong):
            per_frame.setdefault(round(float(view.t[k]), 4), []).append((view, int(k)))
    sites: list[dict] = []  # open places: boxes per frame, tracks, last time
    closed: list[dict] = []
    for time in sorted(per_frame):
        for site in list(sites):
            if time - site["last"] > 0.6:
                sites.remove(site)
                closed.append(site)
        fed: list[dict] = []
        for members in _together(_distinct(per_frame[time])):
            box = _union(*[tuple(float(v) for v in view.data[k, X : H + 1]) for view, k in members])
            motion = sum(float(view.data[k, MOTION]) for view, k in members) / max(box[2] * box[3], 1.0)
            site = next((s for s in sites if s not in fed and iou(s["boxes"][-1], box) >= 0.2), None)
            if site is None:
                site = {"boxes": [], "times": [], "motion": [], "members": [], "views": {}, "last": time}
                sites.append(site)
            fed.append(site)
            site["boxes"].append(box)
            site["times"].append(time)
            site["motion"].append(motion)
            site["members"].append({view.id for view, _ in members})
            site["views"].update({view.id: view for view, _ in members})
            site["last"] = time
    return closed + sites


def _distinct(members: list[tuple[TrackView, int]]) -> list[tuple[TrackView, int]]:
    """A frame's strongly moving regions less the boxes placed in a shared region on another's: two
    tracks in a region narrower than both (one person a fragment of whom was tracked apart, or two
    walking one behind the other) keep the region's width each, the same box; seen once, not as two
    people, nor its changed pixels counted twice."""
    kept: list[tuple[TrackView, int]] = []
    for view, k in members:
        if view.data[k, SHARED] > 0 and any(
            other.data[j, SHARED] > 0
            and iou(view.data[k, X : H + 1], other.data[j, X : H + 1]) >= FIGHT_SAME_BOX
            for other, j in kept
        ):
            continue
        kept.append((view, k))
    return kept


def _together(members: list[tuple[TrackView, int]]) -> list[list[tuple[TrackView, int]]]:
    """A frame's strongly moving regions in groups, each region within FIGHT_TOGETHER of a height of
    another in its group: one place each (a fight, and someone walking elsewhere in the picture at the
    same moment, are two places: one box around both moved with the walker and hid the fight)."""
    groups: list[list[tuple[TrackView, int]]] = []
    for member in members:
        near = [group for group in groups if any(_close(member, other) for other in group)]
        for group in near:
            groups.remove(group)
        groups.append([member, *(m for group in near for m in group)])
    return groups


def _close(a: tuple[TrackView, int], b: tuple[TrackView, int]) -> bool:
    """Two regions in a frame are within FIGHT_TOGETHER of the taller one's height of each other."""
    (view_a, ka), (view_b, kb) = a, b
    gap = float(_gaps(view_a, view_b, np.array([ka]), np.array([kb]))[0])
    return gap <= FIGHT_TOGETHER * max(view_a.data[ka, H], view_b.data[kb, H])


def _fight_spans(site: dict, size: tuple[int, int]):
    """The windows of a place (FIGHT_WINDOW_SEC long, one starting every FIGHT_STEP_SEC; the whole place
    when it lasted less) in which it was fight-like: a second or more of strong motion that went nowhere
    (drift), back and forth, by two or more tracks taking part (each moving strongly in
    FIGHT_TAKING_PART of the window's frames: a fragment, or a bystander seen moving once beside one
    restless person, is not a second person), or one region as wide as two people, most of them staying
    (or, none seen as itself there for long, the place reaching no further than FIGHT_REACH heights).
    People walk up to each other before a fight and away after it; judging the place as a whole, their
    walk would hide the fight. Yields (first, last, back and forth) or None."""
    times = np.array(site["times"])
    boxes = np.array(site["boxes"])
    starts, begun = [], -1e9
    for index, time in enumerate(times):
        if time >= begun + FIGHT_STEP_SEC and time + FIGHT_MIN_SEC <= times[-1] + 1e-6:
            starts.append(index)
            begun = time
    for first in starts:
        last = int(np.searchsorted(times, times[first] + FIGHT_WINDOW_SEC, "right")) - 1
        if last - first < 2 or times[last] - times[first] < FIGHT_MIN_SEC:
            continue
        part = boxes[first : last + 1]
        height = float(np.median(part[:, 3]))
        centres = part[:, :2] + part[:, 2:] / 2
        drift = float(np.hypot(*(centres[-1] - centres[0])))
        if drift > FIGHT_MAX_DRIFT * height:
            yield None  # it went somewhere: walking, running, driving
            continue
        path = float(np.hypot(*np.diff(centres, axis=0).T).sum())
        back_and_forth = path / max(drift, 0.1 * height)
        wide = float(np.median(part[:, 2] / np.maximum(part[:, 3], 1.0)))
        tracks = set().union(*site["members"][first : last + 1])
        frames = [t for members in site["members"][first : last + 1] for t in members]
        taking_part = [t for t in tracks if frames.count(t) >= FIGHT_TAKING_PART * (last - first + 1)]
        if back_and_forth < FIGHT_BACK_AND_FORTH or (len(taking_part) < 2 and wide < 0.7):
            yield None
            continue
        if _walked_in([site["views"][tid] for tid in taking_part], float(times[first]), size):
            yield None
            continue
        views = {tid: site["views"][tid] for tid in tracks}
        stays = _mostly_in_place(views, float(times[first]), float(times[last]), size)
        if stays is None:  # no track seen there as itself for long: how far the place's boxes reached
            stays = _reach(part) <= FIGHT_REACH * height
        if not stays:
            yield None  # people walking past each other: the place stays, the people do not
            continue
        if float(np.median(site["motion"][first : last + 1])) < FIGHT_MOTION:
            yield None
            continue
        yield first, last, back_and_forth


def _reach(boxes: np.ndarray) -> float:
    """How far a window's boxes reach together: the larger of their joint width and height."""
    left, top = boxes[:, 0].min(), boxes[:, 1].min()
    right, bottom = (boxes[:, 0] + boxes[:, 2]).max(), (boxes[:, 1] + boxes[:, 3]).max()
    return float(max(right - left, bottom - top))


def _mostly_in_place(
    views: dict[int, TrackView], start: float, end: float, size: tuple[int, int]
) -> bool | None:
    """More than half of the tracks seen at a place as their own region, whole (not cut by the
    picture's edge: a box growing as its object walks in moves with the edge, not the object), for
    half its span or more stay there: went back and forth, a path FIGHT_SWAPPED times their net move
    between the first and the last such frame or longer (a tenth of their height at least), in place
    or as the tracker swaps two grappling people, each track going on with the other one. A walker
    passing goes one way, its path about its net move, however slowly: strolling people seen from
    above went less than FIGHT_MAX_DRIFT in a window (vtest.avi). A track seen so in frames adding up
    to less (a fragment, one passing, one inside a region shared with another, whose box is placed,
    not seen: seen as itself only now and then, its own boxes are now both people, now one) is not
    asked. None when no track was asked: grappling people's tracks split, merge and change hands, and
    then the place is judged instead."""
    staying = judged = 0
    for view in views.values():
        moved = _moved_as_itself(view, start, end, size)
        if moved is None:
            continue
        judged += 1
        drift, path = moved
        staying += path >= FIGHT_SWAPPED * max(drift, 0.1 * view.height)
    if judged == 0:
        return None
    return staying > judged / 2


def _walked_in(views: list[TrackView], start: float, size: tuple[int, int]) -> bool:
    """Two or more people, each seen as their own region for half the FIGHT_WINDOW_SEC before `start`,
    walked into the place one way then (FIGHT_WALKED_IN of their height or more, net, on a path
    shorter than FIGHT_SWAPPED times that): they are meeting, walkers passing each other or people
    walking up to each other; what they do next, in the windows after, tells a fight."""
    if len(views) < 2:
        return False
    for view in views:
        moved = _moved_as_itself(view, start - FIGHT_WINDOW_SEC, start, size)
        if moved is None:
            return False
        drift, path = moved
        if drift < FIGHT_WALKED_IN * view.height or path >= FIGHT_SWAPPED * drift:
            return False
    return True


def _moved_as_itself(
    view: TrackView, start: float, end: float, size: tuple[int, int]
) -> tuple[float, float] | None:
    """(net move, path) of a track's boxes between `start` and `end` in the frames where it was seen as
    its own region, whole; None when those add up to less than half the span (see `_mostly_in_place`)."""
    inside = np.flatnonzero(view.between(start - 0.01, end + 0.01))  # (the site's times are rounded)
    data = view.data[inside]
    inside = inside[(data[:, MATCHED] > 0) & (data[:, SHARED] == 0) & inside_frame(data, size)]
    if len(inside) < 2 or len(inside) * _step(view) < 0.5 * (end - start):
        return None
    drift = math.hypot(view.cx[inside[-1]] - view.cx[inside[0]], view.cy[inside[-1]] - view.cy[inside[0]])
    return drift, float(np.hypot(np.diff(view.cx[inside]), np.diff(view.cy[inside])).sum())


def _fast_seen(view: TrackView) -> np.ndarray:
    """Per frame: the track moves at a run's speed, seen (not carried on by prediction) and changing."""
    data = view.data
    fast = (view.speed / view.height >= RUN_SPEED) & (data[:, MATCHED] > 0)
    return fast & (data[:, MOTION] >= RUN_CHANGING * data[:, W] * data[:, H])


def _running(view: TrackView, alone: np.ndarray) -> np.ndarray:
    """Per frame: the track moves at a run, seen whole and as itself: `alone` (its own region, see
    `_alone`), its height that of the person (not a fragment, not a region merged with another: the
    height it was seen at on its own, not a box placed in a shared region, which may have been most of
    its track), and changing (a body that runs changes from frame to frame; a box carried on by
    prediction does not)."""
    data = view.data
    height = view.height
    whole = (data[:, H] >= 0.5 * float(np.percentile(data[:, H], 90))) & (data[:, H] <= 1.4 * height)
    return _fast_seen(view) & whole & alone


def _alone(views: list[TrackView]) -> dict[int, np.ndarray]:
    """Per track, per frame: its region is its own: not shared, or shared only with fragments of it
    (tracks whose boxes are under FRAGMENT_SHARE of its own: a body whose region also holds a second,
    small track on a part of it is still seen as itself; two bodies in one region are not)."""
    starts = np.array([view.start for view in views])
    ends = np.array([view.end for view in views])
    alone = {}
    for view in views:
        shared = view.data[:, SHARED] > 0
        if shared.any():
            area = view.data[:, W] * view.data[:, H]
            with_body = np.zeros(len(view.t), dtype=bool)
            for k in np.flatnonzero((starts <= view.end) & (ends >= view.start)):
                other = views[k]
                times, ia, ib = _common(view, other)
                if other.id == view.id or not len(times):
                    continue
                body = (other.data[ib, SHARED] > 0) & (
                    other.data[ib, W] * other.data[ib, H] >= FRAGMENT_SHARE * area[ia]
                )
                with_body[ia[body]] = True
            shared &= with_body
        alone[view.id] = ~shared
    return alone


def _runs_seen(view: TrackView, alone: np.ndarray) -> list[np.ndarray]:
    """The track's runs: frames where it ran seen whole (`_running`), going on through frames where it
    still moved that fast, seen and changing, but not whole (a box cut short, a region shared for a
    moment); each from its first frame seen whole to its last."""
    whole = _running(view, alone)
    runs = []
    for stretch in _runs(view.t, whole | _fast_seen(view), max_dip=1):
        seen = stretch[whole[stretch]]
        if len(seen):
            runs.append(np.arange(seen[0], seen[-1] + 1))
    return runs


def scattering(views: list[TrackView], alone: dict[int, np.ndarray]) -> list[Finding]:
    """CROWD_PANIC seen as a scene: three or more tracks (most of them person-like) turn fast
    within PANIC_WITHIN_SEC of each other, at least three of them at once, where hardly anything was
    fast just before. Runners' tracks break up (a body that starts running changes shape), so no
    track is asked to run for long; a lone runner whose track breaks up is never three at once.
    Or a crowd seen scattering (`_scattered`). `alone`: per track, the frames its region was its own
    (`_alone`)."""
    return _merge_overlapping([*_ran_at_once(views, alone), *_scattered(views)])


def _ran_at_once(views: list[TrackView], alone: dict[int, np.ndarray]) -> list[Finding]:
    """Three or more tracks that run (seen whole, `_running`) from within PANIC_WITHIN_SEC of each other,
    where at most one ran in the seconds before; tracks under PANIC_FRAGMENT of the usual height of
    those that ran are fragments and count neither way."""
    onsets = []
    for view in views:
        fast = np.flatnonzero(_running(view, alone[view.id]))
        if len(fast) >= 3:
            onsets.append((float(view.t[fast[0]]), float(view.t[fast[-1]]), view))
    if onsets:  # a fragment that ran (a piece of a region, something thrown) is no runner
        usual = float(np.median([view.height for _, _, view in onsets]))
        onsets = [item for item in onsets if item[2].height >= PANIC_FRAGMENT * usual]
    onsets.sort(key=lambda item: item[0])
    first_seen = min((view.start for view in views), default=0.0)
    found = []
    for onset, _, _ in onsets:
        if onset < first_seen + 2.5:
            continue  # nothing seen before to tell a sudden change from the usual
        group = [
            (start, end, view) for start, end, view in onsets if onset <= start <= onset + PANIC_WITHIN_SEC
        ]
        before = [view for start, end, view in onsets if start < onset - 0.3 and end >= onset - 2.5]
        at_once = max(
            sum(v.start <= start + 0.2 and v.end >= start - 0.2 for _, _, v in group) for start, _, _ in group
        )
        people = sum(view.kind == PERSON for _, _, view in group)
        speed = float(np.median([np.median(v.speed[v.between(s, e)] / v.height) for s, e, v in group]))
        if at_once < PANIC_RUNNERS or len(before) > 1 or people < 2 / 3 * len(group) or speed < RUN_SPEED:
            continue  # (fast for a moment, slow in between: jitter, not a run)
        if found and onset <= found[-1].end:
            continue
        members = [view for _, _, view in group]
        peak = onset + 0.3
        boxes = [view.box_at(peak) for view in members if view.start <= peak <= view.end] or [
            members[0].box_at(onset)
        ]
        found.append(
            Finding(
                "CROWD_PANIC",
                start=onset,
                end=max(end for _, end, _ in group),
                peak=peak,
                track_ids=sorted(view.id for view in members),
                strength=len(members) / PANIC_RUNNERS,
                box=_union(*boxes),
                facts={
                    "tracks": len(members),
                    "speed": speed,
                    "scatter": _scatter(members, peak),
                },
            )
        )
    return found


def _scattered(views: list[TrackView]) -> list[Finding]:
    """PANIC_SCATTERED or more tracks, most of them not vehicle-like, turn fast (`_turned_fast`)
    within PANIC_WITHIN_SEC of each other, heading apart (their headings' spread at least
    PANIC_SPREAD) and not towards each other (two streams of people passing each other head apart
    too, but each towards where the other came from), where at most a third as many tracks were fast
    in the seconds just before. People who run off at once from a group become changing regions that
    split and merge: their tracks are short and often shared, so none is asked to be seen whole or
    run for long; many of them, all turning fast at once in every direction, is what a scattering
    crowd looks like and traffic or passers-by do not."""
    turns = sorted((turn for turn in map(_turned_fast, views) if turn is not None), key=lambda u: u.first)
    first_seen = min((view.start for view in views), default=0.0)
    found: list[Finding] = []
    for turn in turns:
        onset = turn.first
        if onset < first_seen + 2.5 or (found and onset <= found[-1].end):
            continue  # nothing seen before to tell a sudden change from the usual; or already found
        group = [other for other in turns if onset <= other.first <= onset + PANIC_WITHIN_SEC]
        before = sum(1 for other in turns if other.first < onset - 0.3 and other.last >= onset - 2.5)
        vehicles = sum(other.view.kind == VEHICLE for other in group)
        if len(group) < PANIC_SCATTERED or 3 * before > len(group) or 2 * vehicles >= len(group):
            continue
        headings = np.array([other.heading for other in group])
        outward = np.array([other.place for other in group])
        outward -= outward.mean(axis=0)
        outward /= np.maximum(np.hypot(outward[:, 0], outward[:, 1]), 1e-6)[:, None]
        apart = float(np.mean(np.sum(outward * headings, axis=1)))  # 1: all away from their middle
        spread = float(1.0 - np.hypot(*headings.mean(axis=0)))
        if spread < PANIC_SPREAD or apart < PANIC_CONVERGING:
            continue
        members = [other.view for other in group]
        peak = onset + 0.3
        boxes = [view.box_at(peak) for view in members if view.start <= peak <= view.end]
        found.append(
            Finding(
                "CROWD_PANIC",
                start=onset,
                end=max(other.last for other in group),
                peak=peak,
                track_ids=sorted(view.id for view in members),
                strength=len(members) / PANIC_SCATTERED,
                box=_union(*(boxes or [members[0].box_at(onset)])),
                facts={
                    "tracks": len(members),
                    "speed": float(np.median([other.speed for other in group])),
                    "scatter": spread,
                },
            )
        )
    return found


@dataclass
class _Turn:
    """A track's turn to a run's speed (`_turned_fast`)."""

    first: float  # the first and last frame at that speed
    last: float
    heading: np.ndarray  # unit vector, over those frames
    place: np.ndarray  # its centre at the first
    speed: float  # median, heights a second
    view: TrackView


def _turned_fast(view: TrackView) -> _Turn | None:
    """The track moved at a run's speed for PANIC_FAST_FRAMES frames or more, seen (not carried on by
    prediction) and changing; None when it never did."""
    relative = view.speed / view.height
    rows = np.flatnonzero(_fast_seen(view))
    if len(rows) < PANIC_FAST_FRAMES:
        return None
    heading = np.array([view.vx[rows].mean(), view.vy[rows].mean()])
    heading /= max(float(np.hypot(*heading)), 1e-6)
    return _Turn(
        float(view.t[rows[0]]),
        float(view.t[rows[-1]]),
        heading,
        np.array([view.cx[rows[0]], view.cy[rows[0]]]),
        float(np.median(relative[rows])),
        view,
    )


def broke_off(
    views: list[TrackView], start: float, end: float, box: tuple[float, float, float, float] | None
) -> Finding | None:
    """CROWD_PANIC seen in unusual motion no rule explained (from `start` to `end`, `box` where it was
    unusual at its peak): three or more people broke off there as it began. Who stood or walked there
    just before (person-like tracks) broke off when the track ended while the motion went on, or sped
    to a run. People who start running at once from a group become one changing region and their
    tracks break up, so nobody's run can be followed; what they were doing before, and that all of it
    stopped at once, can be. People who stood still for long were learnt into the background and have
    no track before. When BROKE_OFF_SEEN or more were seen to break off, or else a place someone left
    is seen (`_left_behind`), the tracks that begin there as it does (within BROKE_OFF_BEGAN_SEC of
    it), run, are not vehicle-like, are upright (aspect BROKE_OFF_UPRIGHT or more: a car's region whose
    shape changed too much to be called vehicle-like, a shadow, are wide) and are person-sized (no
    smaller than those seen breaking off and no longer than BROKE_OFF_LARGEST times the tallest of
    them; else from BROKE_OFF_BODY to BROKE_OFF_LARGEST times the people's usual height in the
    picture: thrown fragments are smaller, a shadow sweeping a wall or a region of the scene as the
    light changes larger) are the rest of the crowd, whose tracks began anew (objects jumping about
    leave no such place).
    A track begun there that stands for its first second is such a place, not one who ran off (its box
    may jump later, as the region it lies in changes); tracks on one object before it (one body's
    pieces, `_one_per_object`) are one person."""
    if box is None:
        return None
    people = []
    for view in views:
        if view.kind != PERSON or not view.start <= start - BROKE_OFF_BEFORE_SEC <= view.end:
            continue
        earlier = _speed_between(view, start - 1.5, start - 0.2)
        if not _near(view, start, box) or earlier is None or earlier / view.height > BROKE_OFF_CALM:
            continue
        if view.end <= end + 0.3 and _changed_at_end(view) or _ran_during(view, start, end):
            people.append(view)
    people = _one_per_object(people, start)
    if len(people) >= BROKE_OFF_SEEN:
        smallest = min(view.height for view in people)
        largest = BROKE_OFF_LARGEST * max(view.height for view in people)
    elif any(_left_behind(view, start, end, box) for view in views):
        heights = [view.height for view in views if view.kind == PERSON]
        usual = float(np.median(heights)) if heights else math.inf
        smallest, largest = BROKE_OFF_BODY * usual, BROKE_OFF_LARGEST * usual
    else:
        return None
    began = [
        view
        for view in views
        if _began_there(view, start, end, box)
        and view.kind != VEHICLE
        and smallest <= view.height
        and view.length <= largest
        and view.aspect >= BROKE_OFF_UPRIGHT
        and _ran_during(view, start, end)
        and not _left_behind(view, start, end, box)
    ]
    seen = len(people)
    people += began
    if len(people) < PANIC_RUNNERS:
        return None
    return Finding(
        "CROWD_PANIC",
        start=start,
        end=end,
        peak=start,
        track_ids=sorted(view.id for view in people),
        strength=len(people) / PANIC_RUNNERS,
        box=_union(box, *[view.box_at(start) for view in people]),
        facts={"tracks": seen, "began": len(began), "calm": BROKE_OFF_CALM, "how": "broke_off"},
    )


def _left_behind(view: TrackView, start: float, end: float, box: tuple[float, float, float, float]) -> bool:
    """Whether the track is the place someone learnt into the background left as they ran off (it
    stands out until the background is learnt again): it begins there within BROKE_OFF_BEGAN_SEC of
    the motion and stands still for BROKE_OFF_GHOST_SEC."""
    if not _began_there(view, start, end, box) or view.end - view.start < BROKE_OFF_GHOST_SEC:
        return False
    first = view.between(view.start, view.start + BROKE_OFF_GHOST_SEC)
    moved = math.hypot(view.cx[first][-1] - view.cx[first][0], view.cy[first][-1] - view.cy[first][0])
    return moved / view.height < STILL * BROKE_OFF_GHOST_SEC


def _began_there(view: TrackView, start: float, end: float, box: tuple[float, float, float, float]) -> bool:
    """Whether the track began near `box` as the unexplained motion did (within BROKE_OFF_BEGAN_SEC of
    it, or during it)."""
    return start - BROKE_OFF_BEGAN_SEC <= view.start <= end + BROKE_OFF_BEGAN_SEC and _near(
        view, view.start, box
    )


def _ran_during(view: TrackView, start: float, end: float) -> bool:
    """Whether the track reached a run's speed during the unexplained motion (or just after it)."""
    during = view.between(start, end + 0.3)
    return bool(during.any() and float(view.speed[during].max()) / view.height >= RUN_SPEED)


def _one_per_object(views: list[TrackView], before: float) -> list[TrackView]:
    """One track per object, the tallest, judged on the frames `before` the motion (`_same_object`):
    close to the camera one body's region splits into pieces (the body, an arm beside it, its head),
    each tracked, their boxes overlapping all along; one person, not a crowd. (As people run off
    together their regions merge: that says nothing of what they were.)"""
    kept: list[TrackView] = []
    for view in sorted(views, key=lambda v: -v.height):
        if not any(_same_object(view, other, before) for other in kept):
            kept.append(view)
    return kept


def _near(view: TrackView, time: float, box: tuple[float, float, float, float]) -> bool:
    """Whether the track's box at `time` reaches within its own height of `box`."""
    x, y, w, h = view.box_at(time)
    margin = view.height
    return (
        x + w >= box[0] - margin
        and x <= box[0] + box[2] + margin
        and y + h >= box[1] - margin
        and y <= box[1] + box[3] + margin
    )


def _changed_at_end(view: TrackView) -> bool:
    """Whether pixels of the track changed in its last BROKE_OFF_LAST_SEC: someone who breaks into a run
    moves as the track ends; a standing person the background model takes in fades out unchanged."""
    last = (view.t >= view.end - BROKE_OFF_LAST_SEC) & (view.data[:, MATCHED] > 0)
    return bool((view.data[last, MOTION] > 0).any())


def runs_and_panic(views: list[TrackView], alone: dict[int, np.ndarray]) -> list[Finding]:
    runs: list[Finding] = []
    people = [v for v in views if v.kind == PERSON]
    paces = [float(np.median(v.speed / v.height)) for v in people]
    for index, view in enumerate(people):
        others = paces[:index] + paces[index + 1 :]
        walking = float(np.median(others)) if others else 0.0
        for run in _runs_seen(view, alone[view.id]):
            start, end = float(view.t[run[0]]), float(view.t[run[-1]])
            if end - start < RUN_MIN_SEC:
                continue
            speed = float(np.median(view.speed[run]) / view.height)
            earlier = _speed_between(view, start - 2.0, start - 0.3)
            if earlier is None:  # its track began as the run did: the body's track before it broke up
                earlier = _predecessor_speed(view, views, start)
            usual = earlier / view.height if earlier is not None else walking
            if usual > 0.6 * speed:
                continue  # not a sudden rise: it moved like this before, or everyone here does
            peak = float(view.t[run[int(np.argmax(view.speed[run]))]])
            runs.append(
                Finding(
                    "RUNNING",
                    start=start,
                    end=end,
                    peak=peak,
                    track_ids=[view.id],
                    strength=speed / RUN_SPEED,
                    box=view.box_at(peak),
                    facts={
                        "track": view.id,
                        "speed": speed,
                        "earlier": (earlier / view.height) if earlier is not None else -1.0,
                    },
                )
            )
    runs.sort(key=lambda f: f.start)
    findings: list[Finding] = []
    used: set[int] = set()
    for index, run in enumerate(runs):
        if index in used:
            continue
        group = [
            i
            for i in range(index, len(runs))
            if i not in used and runs[i].start - run.start <= PANIC_WITHIN_SEC
        ]
        if len({runs[i].track_ids[0] for i in group}) >= PANIC_RUNNERS:
            used.update(group)
            members = [runs[i] for i in group]
            peak = min(m.start for m in members) + 0.3
            boxes = [
                v.box_at(peak)
                for v in views
                if v.id in {m.track_ids[0] for m in members} and v.start <= peak <= v.end
            ] or [members[0].box]
            headings = [v for v in views if v.id in {m.track_ids[0] for m in members}]
            spread = _scatter(headings, peak)
            findings.append(
                Finding(
                    "CROWD_PANIC",
                    start=min(m.start for m in members),
                    end=max(m.end for m in members),
                    peak=peak,
                    track_ids=sorted(m.track_ids[0] for m in members),
                    strength=len(members) / PANIC_RUNNERS,
                    box=_union(*boxes),
                    facts={
                        "tracks": len(members),
                        "speed": float(np.median([m.facts["speed"] for m in members])),
                        "scatter": spread,
                    },
                )
            )
        else:
            used.add(index)
            if float(run.facts["earlier"]) >= 0:  # alone, a run counts only as a change of this track's
                findings.append(run)  # own pace (one that just came into view may always run)
    return findings


def _predecessor_speed(view: TrackView, views: list[TrackView], start: float) -> float | None:
    """The speed, before `start`, of the track this one took over from: a body that breaks into a run
    changes shape and its track breaks up, the run going on as a new track where the old one was. The
    predecessor: another track of about its height, seen for RUN_MIN_SEC or more before `start`, that
    ended within PREDECESSOR_SEC of this one's beginning, and whose box within PREDECESSOR_SEC before
    that lay within one height of where this one began; its median speed over the two seconds before
    (None when there is none)."""
    first = view.box_at(view.start)
    centre = np.array([first[0] + first[2] / 2, first[1] + first[3] / 2])
    best = None
    for other in views:
        if other.id == view.id or other.kind == VEHICLE or other.start > start - RUN_MIN_SEC:
            continue
        if abs(other.end - view.start) > PREDECESSOR_SEC or not 0.6 <= view.height / other.height <= 1.6:
            continue  # it went on (this one split off from it), or it was not the same body's size
        close = other.between(view.start - PREDECESSOR_SEC, view.start)
        if not close.any():
            continue
        distance = float(
            np.min(np.hypot(other.cx[close] - centre[0], other.cy[close] - centre[1])) / view.height
        )
        if distance <= 1.0 and (best is None or distance < best[0]):
            best = (distance, other)
    if best is None:
        return None
    earlier = _speed_between(best[1], start - 2.0, start - 0.3)
    return None if earlier is None else earlier * view.height / best[1].height


def _scatter(views: list[TrackView], time: float) -> float:
    """0 when the tracks all head one way, 1 when they head apart (1 − mean resultant length)."""
    headings = []
    for view in views:
        direction = _direction_between(view, time, time + 1.0)
        if direction is not None:
            headings.append(direction)
    if len(headings) < 2:
        return 0.0
    return float(1.0 - np.hypot(*np.mean(headings, axis=0)))


def wrong_way(views: list[TrackView], size: tuple[int, int]) -> list[Finding]:
    width, height = size
    movers = [v for v in views if v.kind == VEHICLE]
    # per grid cell, per track: its moving time and its heading summed over that time (a vector)
    contributions: dict[int, dict[tuple[int, int], np.ndarray]] = {}
    for view in movers:
        cells: dict[tuple[int, int], np.ndarray] = {}
        moving = view.speed / view.length >= MOVING
        dt = np.gradient(view.t) if len(view.t) > 1 else np.ones(1)
        for k in np.flatnonzero(moving):
            cell = _cell(view.cx[k], view.cy[k], width, height)
            heading = np.array([view.vx[k], view.vy[k]]) / max(float(view.speed[k]), 1e-6)
            cells.setdefault(cell, np.zeros(3))[:] += (dt[k], *(heading * dt[k]))
        contributions[view.id] = cells
    holders: dict[tuple[int, int], set[int]] = {}  # per cell, the tracks that moved there
    for tid, cells in contributions.items():
        for cell in cells:
            holders.setdefault(cell, set()).add(tid)
    order = {tid: n for n, tid in enumerate(contributions)}
    found = []
    # judged: what is vehicle-like, and anything else moving faster than people walk (a small vehicle's
    # track can look like a person's or an unclassed region's); a slower unclassed region (a fragment,
    # people's regions merged, a walker on a pavement beside a road) is no driver, as it is no flow
    judged_views = [v for v in views if v.kind == VEHICLE or np.median(v.speed / v.length) >= WRONG_WAY_FAST]
    for view, moving in _judged_parts(judged_views, size):
        against, judged = [], 0
        twins = {other.id for other in movers if _same_object(view, other)}  # not a flow of its own
        flows: dict[tuple[int, int], list[np.ndarray]] = {}  # per cell: a track stays in one for a while
        for k in moving:
            cell = _cell(view.cx[k], view.cy[k], width, height)
            if cell not in flows:
                around = _around(cell)  # where it drives and next to it: a lane and the lanes beside it
                nearby = set().union(*(holders.get(near, ()) for near in around)) - twins - {view.id}
                flows[cell] = [
                    sum(contributions[tid][near] for near in around if near in contributions[tid])
                    for tid in sorted(nearby, key=order.__getitem__)
                ]
            others = flows[cell]
            if len(others) < FLOW_MIN_TRACKS:
                continue
            total = np.sum(others, axis=0)
            resultant = float(np.hypot(total[1], total[2]))
            if resultant < FLOW_AGREEMENT * total[0]:
                continue  # no one direction here (a two-way road, a square)
            judged += 1
            flow = total[1:] / resultant
            heading = np.array([view.vx[k], view.vy[k]]) / max(float(view.speed[k]), 1e-6)
            if _angle(flow, heading) >= WRONG_WAY_DEG:
                against.append(k)
        if not against or len(against) < WRONG_WAY_SHARE * judged:
            continue
        start, end = float(view.t[against[0]]), float(view.t[against[-1]])
        if end - start < WRONG_WAY_MIN_SEC or _own_way_driven(view, views):
            continue
        if float(np.mean(view.data[against, MATCHED] > 0)) < WRONG_WAY_SEEN:
            continue  # mostly a box carried on by its prediction: no vehicle was seen driving there
        peak = float(view.t[against[len(against) // 2]])
        found.append(
            Finding(
                "WRONG_WAY",
                start=start,
                end=end,
                peak=peak,
                track_ids=[view.id],
                strength=(end - start) / WRONG_WAY_MIN_SEC,
                box=view.box_at(peak),
                facts={
                    "track": view.id,
                    "kind": view.kind,
                    "seconds": end - start,
                    "share": len(against) / max(judged, 1),
                },
            )
        )
    return found


def _judged_parts(views: list[TrackView], size: tuple[int, int]) -> list[tuple[TrackView, np.ndarray]]:
    """Each track with the rows it moves in, in parts judged on their own: a track whose box went out
    through an edge of the frame and grows back out of it follows another object coming in there (one
    leaving, one entering the lane beside); judged whole, neither's way is most of its rows."""
    parts = []
    for view in views:
        moving = np.flatnonzero(view.speed / view.length >= MOVING)
        parts += [(view, part) for part in np.split(moving, np.searchsorted(moving, _back_in(view, size)))]
    return parts


def _back_in(view: TrackView, size: tuple[int, int]) -> list[int]:
    """The rows where the track's box grows back out of an edge of the frame it was going out through:
    against that edge, the box shrank across it from its widest there to BACK_IN_SHRINK of that or less
    over BACK_IN_SEC or more, and now grows again."""
    data = view.data
    against = _against_edges(data, size)
    rows = []
    for edge in range(4):
        extent = data[:, W] if edge in (0, 2) else data[:, H]
        widest = narrowest = None  # (extent, time) since the box last came against the edge
        for k in range(len(data)):
            if not against[edge][k]:
                widest = narrowest = None
            elif widest is None or extent[k] >= widest[0]:
                widest = narrowest = (extent[k], data[k, T])
            elif extent[k] <= narrowest[0]:
                narrowest = (extent[k], data[k, T])
            elif narrowest[0] <= BACK_IN_SHRINK * widest[0] and narrowest[1] - widest[1] >= BACK_IN_SEC:
                rows.append(k)
                widest = narrowest = (extent[k], data[k, T])
    return sorted(rows)


def _own_way_driven(view: TrackView, views: list[TrackView]) -> bool:
    """Whether another vehicle drove the track's way in its lane: a two-way road with one car per lane
    looks like a wrong-way driver on a one-way road (oncoming traffic in the lane beside it) until
    another drives that way along the same lane. Along its path (beside it, within a length of its
    ends, at any time), the oncoming tracks lie a lane across (their median distance across it); any
    other track (not part of it, `_part_of`) OWN_WAY_SIZE of its length or longer that heads its way
    OWN_WAY_LANE of that across or nearer, for WRONG_WAY_MIN_SEC, drove its way there."""
    moving = view.speed / view.length >= MOVING
    path = np.column_stack([view.cx[moving], view.cy[moving]])
    headings = (
        np.column_stack([view.vx[moving], view.vy[moving]]) / np.maximum(view.speed[moving], 1e-6)[:, None]
    )
    beside: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # per track: across, cosine, dt
    for other in views:
        if other.id == view.id:
            continue
        rows = np.flatnonzero(other.speed / other.length >= MOVING)
        if len(rows) == 0:
            continue
        points = np.column_stack([other.cx[rows], other.cy[rows]])
        nearest = np.concatenate(  # in pieces: an hour-long track against a long path stays small
            [
                np.argmin(np.linalg.norm(piece[:, None, :] - path[None, :, :], axis=2), axis=1)
                for piece in np.array_split(points, len(points) * len(path) // 1_000_000 + 1)
            ]
        )
        offset = points - path[nearest]
        along = np.sum(offset * headings[nearest], axis=1)
        across = np.abs(offset[:, 0] * headings[nearest, 1] - offset[:, 1] * headings[nearest, 0])
        own = np.column_stack([other.vx[rows], other.vy[rows]]) / np.maximum(other.speed[rows], 1e-6)[:, None]
        cosine = np.sum(own * headings[nearest], axis=1)
        inside = np.abs(along) <= view.length
        dt = (np.gradient(other.t) if len(other.t) > 1 else np.ones(1))[rows]
        beside[other.id] = (across[inside], cosine[inside], dt[inside])
    oncoming = np.concatenate(
        [np.empty(0)]
        + [across[cosine <= math.cos(math.radians(WRONG_WAY_DEG))] for across, cosine, _ in beside.values()]
    )
    if len(oncoming) == 0:
        return False
    lane = OWN_WAY_LANE * float(np.median(oncoming))
    by_id = {other.id: other for other in views}
    for tid, (across, cosine, dt) in beside.items():
        other = by_id[tid]
        if other.length < OWN_WAY_SIZE * view.length or _part_of(view, other):
            continue
        its_way = (cosine >= math.cos(math.radians(OWN_WAY_DEG))) & (across <= lane)
        if float(dt[its_way].sum()) >= WRONG_WAY_MIN_SEC:
            return True
    return False


def _part_of(view: TrackView, other: TrackView) -> bool:
    """Whether `other` is part of the same object as `view`: a track on it (`_same_object`), or one
    heading its way (within OWN_WAY_DEG), seen with it, nearer to it than it drives in
    OWN_WAY_HEADWAY_SEC (its region split in two, front and back: traffic in one lane keeps further
    apart)."""
    if _same_object(view, other):
        return True
    times, ia, ib = _common(view, other)
    if not len(times):
        return False
    way = np.array([np.mean(view.vx[ia]), np.mean(view.vy[ia])])
    its = np.array([np.mean(other.vx[ib]), np.mean(other.vy[ib])])
    way, its = way / max(float(np.linalg.norm(way)), 1e-6), its / max(float(np.linalg.norm(its)), 1e-6)
    reach = OWN_WAY_HEADWAY_SEC * float(np.median(view.speed[ia]))
    return _angle(way, its) <= OWN_WAY_DEG and float(np.median(_gaps(view, other, ia, ib))) <= reach


def _cell(x: float, y: float, width: int, height: int) -> tuple[int, int]:
    return (
        min(FLOW_GRID - 1, max(0, int(x / max(width, 1) * FLOW_GRID))),
        min(FLOW_GRID - 1, max(0, int(y / max(height, 1) * FLOW_GRID))),
    )


def _same_object(a: TrackView, b: TrackView, before: float = math.inf) -> bool:
    """Two tracks on one object (a region split in two): their boxes overlap most of the time they share
    (`before` that time)."""
    times, ia, ib = _common(a, b)
    ia, ib = ia[times < before], ib[times < before]
    if a.id == b.id or len(ia) < 3:
        return False
    overlaps = [
        iou(a.data[i, X : H + 1], b.data[j, X : H + 1]) > 0.2
        or _gaps(a, b, np.array([i]), np.array([j]))[0] <= 1.0
        for i, j in zip(ia, ib)
    ]
    return float(np.mean(overlaps)) >= 0.5


def _around(cell: tuple[int, int]) -> list[tuple[int, int]]:
    return [(cell[0] + dx, cell[1] + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]


def _changed_shape(view: TrackView, moving: np.ndarray, still: np.ndarray) -> bool:
    """Whether the box's shape (height / width) while it stood differs from while it moved by more than
    STOP_SHAPE_CHANGE either way: a vehicle keeps its shape when it stops, a person who falls does not."""
    aspect = view.data[:, H] / np.maximum(view.data[:, W], 1.0)
    before, after = float(np.median(aspect[moving])), float(np.median(aspect[still]))
    return max(before, after) > STOP_SHAPE_CHANGE * min(before, after)


def _still_pieces(views: list[TrackView]) -> list[tuple[TrackView, np.ndarray, tuple[float, ...]]]:
    """Every track's stretches of standing still (matched rows), with their median box. A person-like
    one only carries a vehicle's stop on: a car heading up or down the frame, first seen once it
    stood, is taller than wide and never travelled."""
    pieces = []
    for view in views:
        still = (view.speed / view.length <= STILL) & (view.data[:, MATCHED] > 0)
        for run in _runs(view.t, still, max_dip=3):
            if len(run) >= STOP_PIECE_ROWS:
                pieces.append((view, run, tuple(np.median(view.data[run][:, X : H + 1], axis=0))))
    return pieces


def _stood_on(
    view: TrackView, run: np.ndarray, box: tuple[float, ...], pieces: list
) -> tuple[float, list[int]]:
    """When the vehicle standing in `run` drove on, and the tracks it stood in: passing traffic that
    merges with a stopped vehicle drags its box, or takes its track, but where it stood a still box
    like its own stands again within STOP_BRIDGE_SEC."""
    end, ids = float(view.t[run[-1]]), [view.id]
    while (piece := _next_still(pieces, end, box, STOP_SAME_PLACE)) is not None:
        other, other_run, box = piece
        end = float(other.t[other_run[-1]])
        if other.id not in ids:
            ids.append(other.id)
    return end, ids


def _next_still(
    pieces: list, after: float, box: tuple[float, ...], overlap: float, *, new_track: bool = False
) -> tuple[TrackView, np.ndarray, tuple[float, ...]] | None:
    """The first still stretch (of `pieces`) that begins within STOP_BRIDGE_SEC after `after` on a box
    overlapping `box` by `overlap` (IoU) or more, or on what is left of `box` as it fades into the
    background; with `new_track`, only in a track begun since."""
    following = [
        (float(other.t[run[0]]), (other, run, other_box))
        for other, run, other_box in pieces
        if after < float(other.t[run[0]]) <= after + STOP_BRIDGE_SEC
        and (not new_track or other.start > after)
        and (iou(box, other_box) >= overlap or _faded_from(other_box, box))
    ]
    return min(following, key=lambda item: item[0])[1] if following else None


def _faded_from(later: tuple[float, ...], earlier: tuple[float, ...]) -> bool:
    """Whether `later` could be what is left of `earlier` as it fades into the background: it lies
    STOP_INSIDE inside it and keeps STOP_KEPT of its area or more."""
    area = max(later[2] * later[3], 1e-6)
    return cover(earlier, later) >= STOP_INSIDE and area >= STOP_KEPT * earlier[2] * earlier[3]


def _still_standing(end: float, box: tuple[float, ...], places: list, tracking_began: float) -> float:
    """When a stand that seemed to end at `end` on `box` ended: a standing object on its box (IoU
    STOP_STANDING_SAME or more, `ForegroundModel.standing`) there by then lasts on. The short-term
    background learns a stopped vehicle within seconds and passing traffic drags its box or takes its
    track; what differs from the long-term background and stays unchanged is the vehicle alone, as
    long as it stands. Not where something stood from the moment tracking began: a vehicle learnt
    into the background at the start that drove off leaves a place that stands out from the
    long-term background for long."""
    there = [place for place, place_box in places if iou(box, place_box) >= STOP_STANDING_SAME]
    if any(place.start <= tracking_began + STOP_GHOST_SEC for place in there):
        return end
    for place in there:  # (by start: one that took over from another carries the stand on)
        if place.start <= end + STOP_BRIDGE_SEC and place.end > end:
            end = place.end
    return end


def _stopped_after_driving(
    views: list[TrackView], pieces: list
) -> list[tuple[TrackView, float, float, list[int], np.ndarray, None]]:
    """Stops whose still stretch is another track's: a vehicle-like track that drove and was slowing
    down when it ended, where a track begun since stands still within STOP_BRIDGE_SEC (the stopped
    car's region, taken over by a new track once traffic merged with it). Each as (the driving track,
    start, end, tracks, its driving rows, None: no still rows of its own)."""
    found = []
    for view in views:
        if view.kind != VEHICLE or view.data[-1, SHARED] > 0:
            continue
        relative = view.speed / view.length
        driving = view.between(view.end - 2.0, view.end) & (relative >= MOVING)
        if np.count_nonzero(driving) * _step(view) < STOP_DRIVING_SEC:
            continue
        if relative[-1] > STOP_SLOWING * float(np.median(relative[driving])):
            continue
        piece = _next_still(pieces, view.end, view.box_at(view.end), STOP_TAKEN_OVER, new_track=True)
        if piece is not None:
            end, chain = _stood_on(*piece, pieces)
            found.append((view, view.end, end, [view.id, *chain], driving, None))
    return found


def stopped_vehicles(
    views: list[TrackView],
    collisions_found: list[Finding],
    tracking_began: float | None = None,
    standing: list[TrackView] | None = None,
) -> list[Finding]:
    """(See the module's docstring.) `tracking_began`: as `falls` takes it; `standing`: the tracks of
    standing objects (see `_still_standing`)."""
    pieces = _still_pieces(views)
    tracking_began = _tracking_began(views, tracking_began)
    places = sorted(
        ((place, tuple(np.median(place.data[:, X : H + 1], axis=0))) for place in standing or []),
        key=lambda item: item[0].start,
    )
    stops = []
    for view, run, box in pieces:
        if view.kind != VEHICLE:
            continue
        start = float(view.t[run[0]])
        end, chain = _stood_on(view, run, box, pieces)
        end = _still_standing(end, box, places, tracking_began)
        driving = view.between(start - 2.0, start - 0.2) & (view.speed / view.length >= MOVING)
        stops.append((view, start, end, chain, driving, run))
    stops += _stopped_after_driving(views, pieces)
    found = []
    for view, start, end, chain, driving, run in stops:
        if any(view.id in f.track_ids for f in found) or end - start < STOP_MIN_SEC:
            continue
        if np.count_nonzero(driving) * _step(view) < STOP_DRIVING_SEC:
            continue
        if any(_wreck_of(c, view, start) for c in collisions_found):
            continue  # one of a collision's vehicles come to stand: its wreck
        if run is not None and not _seen_stopping(view, run):
            continue  # a box the tracker held in place inside a region shared with traffic
        if run is not None and _changed_shape(view, driving, run):
            continue  # a body falling or lying down (tall, then wide), not a vehicle braking
        if view.start <= tracking_began + STOP_GHOST_SEC and _on_first_box(view, start):
            continue  # a ghost: the place a vehicle learnt into the background at the start left
        passing = [
            other.id
            for other in views
            if other.id not in chain
            and other.kind != PERSON
            and (other.between(start, end) & (other.speed / other.length >= MOVING)).any()
        ]
        # its own pieces are no traffic (sought only where something moves: a walk over all tracks)
        if passing:
            own = _pieces_of([other for other in views if other.id in chain], views, start)
            passing = [track_id for track_id in passing if track_id not in own]
        if not passing:
            continue  # everything stands: a queue or a jam, not one vehicle stopped in moving traffic
        before = float(np.median(view.speed[driving]) / view.length)
        found.append(
            Finding(
                "STOPPED_VEHICLE",
                start=start,
                end=end,
                peak=start,
                track_ids=chain,
                strength=(end - start) / STOP_MIN_SEC,
                box=view.box_at(start),
                facts={
                    "track": view.id,
                    "seconds": end - start,
                    "before": before,
                    "passing": len(passing),
                },
            )
        )
    return found


def _pieces_of(tracks: list[TrackView], views: list[TrackView], before: float) -> set[int]:
    """The ids of the tracks on the same object as `tracks` `before` that time (`_same_object`, and so
    on from each piece found): a body near the camera splits into regions that move together as it
    walks, and its own pieces are no traffic flowing past it. Only before: a vehicle that runs into
    it, or traffic that merges with it, came from elsewhere."""
    found = {track.id for track in tracks}
    reached = list(tracks)
    while reached:
        piece = reached.pop()
        for other in views:
            if other.id not in found and _same_object(piece, other, before):
                found.add(other.id)
                reached.append(other)
    return found


def _seen_stopping(view: TrackView, run: np.ndarray) -> bool:
    """Whether the track was seen as its own region (STOP_PIECE_ROWS rows or more) within STOP_SEEN_SEC of
    when its still stretch `run` began, driving up or standing: inside a region it shares with another,
    the tracker keeps its box at one place in the region (`core.tracks`), so a vehicle merged with the
    traffic beside it all along (far away, where traffic overlaps) seems to stand while the region
    drives on. A vehicle that stops is seen driving up or standing; traffic merging with it in the
    meantime drags its box (`_stood_on`)."""
    rows = view.between(view.t[run[0]] - STOP_SEEN_SEC, view.t[run[0]] + STOP_SEEN_SEC)
    own = rows & (view.data[:, SHARED] == 0) & (view.data[:, MATCHED] > 0)
    return int(np.count_nonzero(own)) >= STOP_PIECE_ROWS


def _wreck_of(collision: Finding, view: TrackView, start: float) -> bool:
    """Whether the track's stand from `start` is the collision's wreck: the track is one of the two, and
    the stand began within 2 s of contact, or later with its box STOP_WRECK_INSIDE or more inside the
    box where they touched. Crashed vehicles stay where they crashed; while passing traffic merges with
    their region its box jumps about, and it may seem to stand still only seconds later."""
    if view.id not in collision.track_ids:
        return False
    if abs(collision.peak - start) <= 2.0:
        return True
    if start <= collision.peak or collision.box is None:
        return False
    return cover(collision.box, view.box_at(start)) >= STOP_WRECK_INSIDE


def _on_first_box(view: TrackView, time: float) -> bool:
    """Whether the track's box at `time` lies in the box it was first seen in (STOP_GHOST_SAME of it or
    more): a departing vehicle's first region holds it and its ghost, the ghost is part of that."""
    return cover(tuple(view.data[0, X : H + 1]), view.box_at(time)) >= STOP_GHOST_SAME


def _step(view: TrackView) -> float:
    """Seconds between the track's rows, typically (the rules but one were fitted with it; the mean for
    all of them gained nothing and raised false alarms)."""
    return float(np.median(np.diff(view.t))) if len(view.t) > 1 else 0.1


def _mean_step(view: TrackView) -> float:
    """Seconds between the track's rows on average: a clip at 15 fps analysed at 10 a second has rows
    1/15 and 2/15 s apart in turn, whose median is either (a count of rows times it is a third off)."""
    return float(view.t[-1] - view.t[0]) / (len(view.t) - 1) if len(view.t) > 1 else 0.1


def _runs(times: np.ndarray, flags: np.ndarray, *, max_dip: int) -> list[np.ndarray]:
    """Index runs where `flags` holds, a dip of up to `max_dip` frames not ending a run."""
    runs: list[list[int]] = []
    for index in np.flatnonzero(flags).tolist():
        if runs and index - runs[-1][-1] <= max_dip + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return [np.array(run) for run in runs]


def _overlapping_pairs(views: list[TrackView]):
    ordered = sorted(views, key=lambda v: v.start)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.start > a.end:
                break
            yield a, b


def _merge_overlapping(found: list[Finding]) -> list[Finding]:
    """Findings of one type that overlap in time become one (tracks joined, the strongest's figures)."""
    merged: list[Finding] = []
    for finding in sorted(found, key=lambda f: f.start):
        if merged and finding.start <= merged[-1].end + 0.5:
            last = merged[-1]
            strongest = finding if finding.strength > last.strength else last
            merged[-1] = Finding(
                last.event_type,
                start=last.start,
                end=max(last.end, finding.end),
                peak=strongest.peak,
                track_ids=sorted(set(last.track_ids) | set(finding.track_ids)),
                strength=strongest.strength,
                facts={**strongest.facts, "tracks": len(set(last.track_ids) | set(finding.track_ids))},
                box=_union(last.box, finding.box) if last.box and finding.box else strongest.box,
            )
        else:
            merged.append(finding)
    return merged


def find_events(
    views: list[TrackView],
    size: tuple[int, int],
    tracking_began: float | None = None,
    standing: list[TrackView] | None = None,
) -> list[Finding]:
    """Every rule over the classified tracks; a pair that collided is not also a near miss.
    `tracking_began`: when the engine began making tracks (see `falls`); `standing`: the tracks of
    standing objects (see `stopped_vehicles`)."""
    in_frame(views, size)
    found_collisions = collisions(views, size)
    collided = {frozenset(f.track_ids) for f in found_collisions}
    alone = _alone(views)  # the runs' rules both ask which frames each track's region was its own
    findings = [
        *found_collisions,
        *near_misses(views, collided, size),
        *falls(views, size, tracking_began),
        *fights(views, size),
        *runs_and_panic(views, alone),
        *scattering(views, alone),
        *wrong_way(views, size),
        *stopped_vehicles(views, found_collisions, tracking_began, standing),
    ]
    collided_tracks = {t for f in found_collisions for t in f.track_ids}
    findings = [  # a vehicle that drove at another and hit it is in the collision, not a wrong-way driver
        f for f in findings if f.event_type != "WRONG_WAY" or not collided_tracks & set(f.track_ids)
    ]
    panics = [f for f in findings if f.event_type == "CROWD_PANIC"]
    findings = [  # a runner in a crowd that panics is part of that event
        f
        for f in findings
        if f.event_type != "RUNNING"
        or not any(p.start - 0.5 <= f.end and f.start <= p.end + 0.5 for p in panics)
    ]
    by_type: dict[str, list[Finding]] = {}
    for finding in findings:
        by_type.setdefault(finding.event_type, []).append(finding)
    merged = [kept for same in by_type.values() for kept in _merge_overlapping(same)]
    return sorted(merged, key=lambda f: (f.start, f.end))


@dataclass
class Domain:
    name: str | None
    facts: dict[str, float]


def traffic_domain(views: list[TrackView]) -> Domain:
    """Traffic when the tracks make it plain: four or more vehicle-like tracks travelling at least twice
    their length, most of them along one axis, and more vehicles than people."""
    vehicles = [v for v in views if v.kind == VEHICLE and v.travel >= 2.0]
    people = [v for v in views if v.kind == PERSON]
    axes = []
    for view in vehicles:
        dx, dy = view.cx[-1] - view.cx[0], view.cy[-1] - view.cy[0]
        axes.append(abs(math.degrees(math.atan2(dy, dx))) % 180.0)
    share = 0.0
    if axes:
        bins = np.histogram(np.minimum(axes, 180.0 - np.array(axes)), bins=[0, 30, 60, 91])[0]
        share = float(bins.max() / len(axes))
    facts = {"vehicles": len(vehicles), "people": len(people), "axis_share": share}
    plain = len(vehicles) >= 4 and share >= 0.6 and len(vehicles) > len(people)
    return Domain("traffic" if plain else None, facts)
