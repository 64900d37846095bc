/**
 * The geometry the backend uses (lambda_src/ask_around_me/list_questions/logic.py), so the
 * page subscribes to exactly the topics its search covers: the precision-5 geohash cells
 * within 8 km (docs/ask_around_me.md, "How a client picks its geo topics").
 */
import ngeohash from "ngeohash";

export const EARTH_RADIUS_M = 6_371_008.8;
export const SEARCH_RADIUS_M = 8_000;
export const TOPIC_PRECISION = 5;
/** Absorbs floating-point error: it can add a cell, never drop one (as the backend does). */
const COVER_MARGIN_M = 1;

export interface Point {
  lat: number;
  lng: number;
}

type Box = [minLat: number, minLng: number, maxLat: number, maxLng: number];

const rad = (degrees: number): number => (degrees * Math.PI) / 180;
const deg = (radians: number): number => (radians * 180) / Math.PI;

export function distanceM(a: Point, b: Point): number {
  const dphi = rad(b.lat - a.lat);
  const dlmb = rad(b.lng - a.lng);
  const h = Math.sin(dphi / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dlmb / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

function longitudeGap(lng: number, minLng: number, maxLng: number): number {
  if (minLng <= lng && lng <= maxLng) return 0;
  const gap = (a: number, b: number): number => Math.abs((((a - b + 180) % 360) + 360) % 360 - 180);
  return Math.min(gap(lng, minLng), gap(lng, maxLng));
}

/** Exact spherical distance from a point to the nearest point of a latitude/longitude box. */
export function distanceToBoxM(point: Point, [minLat, minLng, maxLat, maxLng]: Box): number {
  const phi = rad(point.lat);
  const gap = rad(longitudeGap(point.lng, minLng, maxLng));
  const a = Math.sin(phi);
  const b = Math.cos(phi) * Math.cos(gap);
  const low = rad(minLat);
  const high = rad(maxLat);
  const candidates = [low, high];
  const thetaStar = Math.atan2(a, b);
  if (low <= thetaStar && thetaStar <= high) candidates.push(thetaStar);
  const best = Math.max(...candidates.map((t) => a * Math.sin(t) + b * Math.cos(t)));
  return EARTH_RADIUS_M * Math.acos(Math.max(-1, Math.min(1, best)));
}

function circleBoxes({ lat, lng }: Point, radiusM: number): Box[] {
  const dlat = deg(radiusM / EARTH_RADIUS_M);
  const south = Math.max(lat - dlat, -90);
  const north = Math.min(lat + dlat, 90);
  if (lat + dlat >= 90 || lat - dlat <= -90) return [[south, -180, north, 180]];
  const dlng = deg(Math.asin(Math.min(1, Math.sin(radiusM / EARTH_RADIUS_M) / Math.cos(rad(lat)))));
  const west = lng - dlng;
  const east = lng + dlng;
  if (west < -180) return [[south, west + 360, north, 180], [south, -180, north, east]];
  if (east > 180) return [[south, west, north, 180], [south, -180, north, east - 360]];
  return [[south, west, north, east]];
}

/** The precision-5 cells holding some point within `radiusM`, nearest first, at most `limit`. */
export function coveringCells(centre: Point, radiusM = SEARCH_RADIUS_M, limit = Infinity): string[] {
  const cells = new Set<string>();
  for (const [s, w, n, e] of circleBoxes(centre, radiusM)) {
    for (const cell of ngeohash.bboxes(s, w, n, e, TOPIC_PRECISION)) cells.add(cell);
  }
  return [...cells]
    .map((cell) => ({ cell, distance: distanceToBoxM(centre, ngeohash.decode_bbox(cell) as Box) }))
    .filter(({ distance }) => distance <= radiusM + COVER_MARGIN_M)
    .sort((x, y) => x.distance - y.distance || x.cell.localeCompare(y.cell))
    .slice(0, limit)
    .map(({ cell }) => cell);
}

/** The rectangle of a geohash cell, as Leaflet bounds ([[south, west], [north, east]]). */
export function cellBounds(cell: string): [[number, number], [number, number]] {
  const [minLat, minLng, maxLat, maxLng] = ngeohash.decode_bbox(cell);
  return [[minLat, minLng], [maxLat, maxLng]];
}

export function formatDistance(metres: number): string {
  return metres < 1000 ? `${Math.round(metres)} m` : `${(metres / 1000).toFixed(1)} km`;
}
