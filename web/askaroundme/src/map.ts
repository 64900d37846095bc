/**
 * The Leaflet map: the user's position and search circle, the questions as markers, the
 * point a geo answer will send, and a heat map of a geo question's answers (one rectangle per
 * precision-6 geohash cell, shaded by its count). The list beside it carries the same
 * information for keyboard and screen-reader users.
 */
import "leaflet/dist/leaflet.css";

import L from "leaflet";

import { cellBounds, SEARCH_RADIUS_M, type Point } from "./geo";

export interface MapQuestion {
  questionId: string;
  type: "star" | "geo";
  text: string;
  lat: number;
  lng: number;
}

export interface MapHandlers {
  /** The map was clicked or tapped at `point`. */
  onPick: (point: Point) => void;
  onSelect: (questionId: string) => void;
}

const INITIAL_ZOOM = 13;
const COLOURS = { user: "#0b5cad", star: "#8a4b00", geo: "#1e6b34", selected: "#b3261e", answer: "#6a1b9a", heat: "#c62828" };

export class QuestionMap {
  private readonly map: L.Map;
  private readonly questions = L.layerGroup();
  private readonly heat = L.layerGroup();
  private userMarker: L.CircleMarker | null = null;
  private searchCircle: L.Circle | null = null;
  private answerMarker: L.CircleMarker | null = null;
  private centred = false;

  constructor(readonly element: HTMLElement, tiles: { url: string; attribution: string }, handlers: MapHandlers) {
    this.map = L.map(element, { zoomControl: true, keyboard: true, worldCopyJump: true }).setView([20, 0], 2);
    L.tileLayer(tiles.url, { attribution: tiles.attribution, maxZoom: 19 }).addTo(this.map);
    this.heat.addTo(this.map);
    this.questions.addTo(this.map);
    this.map.on("click", (event: L.LeafletMouseEvent) => handlers.onPick({ lat: event.latlng.lat, lng: event.latlng.lng }));
    this.onSelect = handlers.onSelect;
  }

  private readonly onSelect: (questionId: string) => void;

  get centre(): Point {
    const centre = this.map.getCenter().wrap();
    return { lat: centre.lat, lng: centre.lng };
  }

  setUser(point: Point | null): void {
    this.userMarker?.remove();
    this.searchCircle?.remove();
    this.userMarker = this.searchCircle = null;
    if (!point) return;
    this.searchCircle = L.circle([point.lat, point.lng], {
      radius: SEARCH_RADIUS_M, color: COLOURS.user, weight: 1, fillOpacity: 0.04, interactive: false,
    }).addTo(this.map);
    this.userMarker = L.circleMarker([point.lat, point.lng], {
      radius: 8, color: "#ffffff", weight: 3, fillColor: COLOURS.user, fillOpacity: 1, interactive: false,
    }).addTo(this.map);
    if (!this.centred) {
      this.map.setView([point.lat, point.lng], INITIAL_ZOOM);
      this.centred = true;
    }
  }

  setQuestions(questions: MapQuestion[], selectedId: string | null): void {
    this.questions.clearLayers();
    for (const question of questions) {
      const selected = question.questionId === selectedId;
      const marker = L.circleMarker([question.lat, question.lng], {
        radius: selected ? 11 : 8,
        color: "#ffffff",
        weight: 2,
        fillColor: selected ? COLOURS.selected : COLOURS[question.type],
        fillOpacity: 0.95,
      });
      marker.bindTooltip(question.text);
      marker.on("click", (event: L.LeafletMouseEvent) => {
        L.DomEvent.stopPropagation(event);
        this.onSelect(question.questionId);
      });
      marker.addTo(this.questions);
    }
  }

  setAnswerPoint(point: Point | null): void {
    this.answerMarker?.remove();
    this.answerMarker = point
      ? L.circleMarker([point.lat, point.lng], { radius: 9, color: "#ffffff", weight: 3, fillColor: COLOURS.answer, fillOpacity: 1, interactive: false }).addTo(this.map)
      : null;
  }

  /** Counts per precision-6 cell; null hides the heat map. */
  setHeatmap(cells: ReadonlyMap<string, number> | null): void {
    this.heat.clearLayers();
    if (!cells) return;
    const busiest = Math.max(1, ...cells.values());
    for (const [cell, count] of cells) {
      if (count <= 0) continue;
      L.rectangle(cellBounds(cell), {
        color: COLOURS.heat, weight: 1, fillColor: COLOURS.heat, fillOpacity: 0.15 + 0.6 * (count / busiest), interactive: true,
      }).bindTooltip(`${count} answer${count === 1 ? "" : "s"}`).addTo(this.heat);
    }
  }

  focusOn(point: Point): void {
    this.map.panTo([point.lat, point.lng]);
  }

  /** After the container changed size (a panel opened on a phone). */
  resize(): void {
    this.map.invalidateSize();
  }
}
