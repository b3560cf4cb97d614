"""Every string the dashboard shows, in Russian and English, in one catalogue.

`t(key, field=value)` returns the string in the viewer's language (the sidebar switch, first set from
`?lang=` in the URL or UI_LANGUAGE), formatted with `str.format`. Event type and review labels come
from `core.taxonomy_i18n`, shared with the report and the exports.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.config import get_settings

LANGS = ("ru", "en")
LANG_KEY = "sigma.lang"
LANG_NAMES = {"ru": "Русский", "en": "English"}


def lang() -> str:
    """The viewer's language: chosen in the sidebar, else `?lang=` in the URL, else UI_LANGUAGE."""
    if get_script_run_ctx(suppress_warning=True) is not None:  # outside a run (AppTest formatting) no state
        chosen = st.session_state.get(LANG_KEY)
        if chosen in LANGS:
            return chosen
        asked = st.query_params.get("lang")
        if asked in LANGS:
            return asked
    try:
        return get_settings().ui_language
    except Exception:  # noqa: BLE001 - broken settings are reported by the page; the words still show
        return LANGS[0]


def t(key: str, **values: object) -> str:
    return text_in(lang(), key, **values)


def text_in(language: str, key: str, **values: object) -> str:
    """`key` in `language`, for pages drawn outside a Streamlit run (the sign-in form, api/gate.py)."""
    entry = STRINGS.get(key)
    if entry is None:
        return key
    text = entry[language if language in LANGS else LANGS[0]]
    return text.format(**values) if values else text


def _entries(*rows: tuple[str, str, str]) -> dict[str, dict[str, str]]:
    return {key: {"en": en, "ru": ru} for key, en, ru in rows}


# (key, English, Russian)
STRINGS: dict[str, dict[str, str]] = _entries(
    # navigation and common words
    ("nav.analyse", "Analyse", "Анализ"),
    ("nav.incidents", "Analyses", "Анализы видео"),
    ("nav.incident", "Analysis result", "Результат анализа"),
    ("nav.about", "About", "О системе"),
    ("sidebar.language", "Language", "Язык"),
    ("common.delete", "Delete", "Удалить"),
    ("common.delete_confirm", "Yes, delete", "Да, удалить"),
    ("common.cancel", "Cancel", "Отмена"),
    ("common.on", "on", "включена"),
    ("common.off", "off", "выключена"),
    (
        "error.unexpected",
        "Something went wrong ({kind}): {detail}. The details are in the server log.",
        "Что-то пошло не так ({kind}): {detail}. Подробности — в журнале сервера.",
    ),
    (
        "error.database",
        "The database cannot be reached: {detail}. Check DATABASE_URL and that the database server is running.",
        "База данных недоступна: {detail}. Проверьте DATABASE_URL и что сервер базы данных запущен.",
    ),
    ("error.invalid_value", "Invalid value — {problems}", "Недопустимое значение — {problems}"),
    ("unit.seconds", "{value} s", "{value} с"),
    ("unit.minutes", "{minutes} min {seconds} s", "{minutes} мин {seconds} с"),
    ("unit.hours", "{hours} h {minutes} min", "{hours} ч {minutes} мин"),
    ("unit.B", "{value} B", "{value} Б"),
    ("unit.KB", "{value} KB", "{value} КБ"),
    ("unit.MB", "{value} MB", "{value} МБ"),
    ("unit.GB", "{value} GB", "{value} ГБ"),
    # statuses, engines, domains
    ("status.SAVED", "saved", "сохранено"),
    ("status.QUEUED", "queued", "в очереди"),
    ("status.PROCESSING", "processing", "анализ идёт"),
    ("status.DONE", "done", "готово"),
    ("status.FAILED", "failed", "ошибка"),
    ("engine.auto", "auto", "авто"),
    ("engine.local", "local (motion and tracked objects)", "локальный (движение и объекты)"),
    ("engine.vlm", "VLM (model server)", "VLM (сервер модели)"),
    ("domain.auto", "auto (the model decides)", "авто (определит модель)"),
    ("domain.short.auto", "auto", "авто"),
    ("domain.traffic", "traffic", "дорожное движение"),
    ("domain.industrial", "industrial safety", "промышленная безопасность"),
    ("domain.violence", "violence", "насилие"),
    # analyse page
    ("analyse.title", "Analyse a video", "Анализ видео"),
    (
        "analyse.intro",
        (
            "Upload a video (any common format, up to {limit} MB). It is checked by its content, stored under a "
            "generated name and analysed in the background; the incident page shows the progress."
        ),
        (
            "Загрузите видео (любой распространённый формат, до {limit} МБ). Файл проверяется по содержимому, "
            "сохраняется под сгенерированным именем и анализируется в фоне; ход анализа виден на странице инцидента."
        ),
    ),
    ("analyse.file", "Video file", "Видеофайл"),
    (
        "analyse.file_help",
        "MP4, MOV, AVI, MKV, WebM… The file must contain a decodable video stream.",
        "MP4, MOV, AVI, MKV, WebM… Файл должен содержать декодируемый видеопоток.",
    ),
    ("analyse.engine_now", "Engine under “auto” now: {engine}.", "Движок в режиме «авто» сейчас: {engine}."),
    (
        "analyse.no_model_server",
        "No model server is configured (LLM_BASE_URL), so the local motion engine analyses.",
        "Сервер модели не настроен (LLM_BASE_URL), поэтому анализирует локальный движок движения.",
    ),
    ("analyse.params", "Analysis parameters", "Параметры анализа"),
    (
        "analyse.params_help",
        "Defaults come from the server's .env (LLM_WINDOW_SEC, LLM_TARGET_FPS, …).",
        "Значения по умолчанию — из .env сервера (LLM_WINDOW_SEC, LLM_TARGET_FPS, …).",
    ),
    ("analyse.start", "Analyse", "Анализировать"),
    ("analyse.sample", "Try a sample", "Попробовать на примере"),
    (
        "analyse.sample_help",
        (
            "No video at hand? “Try a sample” analyses a 12-second street scene the app makes itself "
            "(a collision at 0:04 and a brief burst at 0:09)."
        ),
        (
            "Нет своего видео? «Попробовать на примере» анализирует 12-секундную уличную сцену, которую "
            "приложение создаёт само (столкновение на 0:04 и короткая вспышка движения на 0:09)."
        ),
    ),
    ("analyse.no_file", "Choose a video file first.", "Сначала выберите видеофайл."),
    ("analyse.storing", "Checking and storing the video…", "Проверка и сохранение видео…"),
    ("analyse.making_sample", "Preparing the sample…", "Подготовка примера…"),
    ("analyse.refused", "“{name}” was not accepted: {reason}.", "Файл «{name}» не принят: {reason}."),
    ("analyse.not_started", "The analysis was not started: {reason}", "Анализ не запущен: {reason}"),
    # parameters
    ("params.title", "Analysis parameters", "Параметры анализа"),
    (
        "params.help",
        "Change what is computed; “Re-analyse” makes a new run of this video and keeps this one.",
        "Меняют то, что вычисляется; «Переанализировать» создаёт новый прогон этого видео, текущий сохраняется.",
    ),
    ("params.window_sec", "Window, seconds", "Окно, секунд"),
    (
        "params.window_sec_help",
        "Length of each analysed window (LLM_WINDOW_SEC).",
        "Длина каждого анализируемого окна (LLM_WINDOW_SEC).",
    ),
    ("params.target_fps", "Frames per second sampled", "Кадров в секунду для выборки"),
    (
        "params.target_fps_help",
        "How densely frames are sampled from the video (LLM_TARGET_FPS).",
        "Как часто берутся кадры из видео (LLM_TARGET_FPS).",
    ),
    ("params.frames_per_window", "Frames per window", "Кадров на окно"),
    (
        "params.frames_per_window_help",
        "Frames sent per window, chosen evenly (LLM_FRAMES_PER_WINDOW).",
        "Сколько кадров окна отправляется, равномерно (LLM_FRAMES_PER_WINDOW).",
    ),
    ("params.max_highlights", "Max events per video", "Максимум событий на видео"),
    (
        "params.max_highlights_help",
        "The most confident events stay (LLM_MAX_HIGHLIGHTS).",
        "Остаются самые уверенные события (LLM_MAX_HIGHLIGHTS).",
    ),
    ("params.engine", "Engine", "Движок"),
    (
        "params.engine_help",
        "auto: the VLM engine when a model server is configured, else the local motion engine.",
        "авто: VLM-движок, если настроен сервер модели, иначе локальный движок движения.",
    ),
    ("params.domain", "Domain", "Область"),
    (
        "params.domain_help",
        "What kind of incidents to look for; “auto” lets the model infer it from the video.",
        "Какие инциденты искать; «авто» — модель определит область по видео.",
    ),
    (
        "params.vlm_refused_unconfigured",
        "Not started: the VLM engine needs a model server, and none is configured (LLM_BASE_URL). Choose the local engine, or set LLM_BASE_URL.",
        "Не запущено: движку VLM нужен сервер модели, а он не настроен (LLM_BASE_URL). Выберите локальный движок или задайте LLM_BASE_URL.",
    ),
    (
        "params.vlm_refused_unreachable",
        "Not started: the model server for the VLM engine does not answer ({detail}). Choose the local engine, or start the server.",
        "Не запущено: сервер модели для движка VLM не отвечает ({detail}). Выберите локальный движок или запустите сервер.",
    ),
    (
        "params.vlm_unconfigured",
        "No model server is configured (LLM_BASE_URL): a VLM run will fail.",
        "Сервер модели не настроен (LLM_BASE_URL): прогон VLM завершится ошибкой.",
    ),
    ("params.reanalyse", "Re-analyse", "Переанализировать"),
    # display filters
    ("filters.title", "Display filters", "Фильтры отображения"),
    (
        "filters.help",
        "Act on stored results at once; nothing is re-analysed.",
        "Применяются к сохранённым результатам сразу, без повторного анализа.",
    ),
    ("filters.min_confidence", "Minimum confidence", "Минимальная уверенность"),
    ("filters.min_duration", "Minimum duration", "Минимальная длительность"),
    ("filters.types", "Event types", "Типы событий"),
    ("filters.types_none", "All types hidden", "Все типы скрыты"),
    ("filters.hide_dismissed", "Hide dismissed events", "Скрыть отклонённые события"),
    ("filters.no_types", "No event types to choose from.", "Нет типов событий для выбора."),
    ("filters.reset", "Reset filters", "Сбросить фильтры"),
    # incidents page
    (
        "incidents.empty",
        "Nothing analysed yet. Upload a video or try the sample on the Analyse page.",
        "Пока ничего не проанализировано. Загрузите видео или попробуйте пример на странице «Анализ».",
    ),
    ("incidents.filter", "Search by file name or #id", "Поиск по имени файла или #номеру"),
    ("incidents.filter_hint", "e.g. camera-3", "например, camera-3"),
    ("incidents.status", "Status", "Статус"),
    ("incidents.domain", "Domain", "Область"),
    ("incidents.any", "any", "любой"),
    ("incidents.file", "File", "Файл"),
    ("incidents.duration", "Duration", "Длительность"),
    ("incidents.progress", "Progress", "Прогресс"),
    ("incidents.events", "Events", "Событий"),
    ("incidents.engine", "Engine", "Движок"),
    ("incidents.thumbnail", "Frame", "Кадр"),
    ("incidents.review", "Review", "Проверка"),
    (
        "incidents.review_help",
        "Events not reviewed yet · confirmed (✓) · dismissed (✗)",
        "События: ещё не проверены · подтверждены (✓) · отклонены (✗)",
    ),
    (
        "incidents.review_cell",
        "{open} open · {confirmed} ✓ · {dismissed} ✗",
        "{open} не пров. · {confirmed} ✓ · {dismissed} ✗",
    ),
    ("incidents.top_score", "Top score", "Макс. оценка"),
    (
        "incidents.engine_help",
        "local: motion and tracked objects; vlm: the vision-language model",
        "local — движение и отслеживаемые объекты; vlm — визуально-языковая модель",
    ),
    (
        "incidents.top_score_help",
        "The highest score of the run's events (a local run's is a measured strength, not a probability)",
        "Наибольшая оценка среди событий прогона (у локального движка — измеренная сила, не вероятность)",
    ),
    ("incidents.run_of", "Re-run of", "Повтор для"),
    ("incidents.created", "Created", "Создан"),
    (
        "incidents.help",
        "{count} of {total} shown. Select a row to open the incident.",
        "Показано {count} из {total}. Выберите строку, чтобы открыть инцидент.",
    ),
    ("incidents.none_match", "No incident matches the filter.", "Ни один инцидент не подходит под фильтр."),
    ("incidents.delete_title", "Delete incidents", "Удаление инцидентов"),
    ("incidents.delete_pick", "Incidents to delete", "Какие инциденты удалить"),
    ("incidents.delete_placeholder", "Choose incidents", "Выберите инциденты"),
    (
        "incidents.delete_confirm",
        "Delete {ids}? Their results are removed, and each video once no run uses it. This cannot be undone.",
        "Удалить {ids}? Результаты будут удалены, а видео — когда его не использует ни один прогон. Отменить нельзя.",
    ),
    (
        "incidents.delete_confirm_reruns",
        "Their re-runs {ids} are deleted with them.",
        "Вместе с ними удаляются их повторные прогоны {ids}.",
    ),
    ("incidents.deleted", "Deleted: {count}.", "Удалено: {count}."),
    # incident page
    ("incident.pick", "Open an incident", "Открыть инцидент"),
    (
        "incident.not_found",
        "Incident #{id} does not exist (it may have been deleted).",
        "Инцидента №{id} нет (возможно, он удалён).",
    ),
    (
        "incident.facts",
        "Analysis #{id} · {duration} · {width}×{height} · {fps} fps · {size} · {when}",
        "Анализ №{id} · {duration} · {width}×{height} · {fps} к/с · {size} · {when}",
    ),
    ("incident.uploaded", "uploaded {created}", "загружен {created}"),
    (
        "incident.rerun_started",
        "re-run of #{of}, started {started}",
        "повторный прогон №{of}, начат {started}",
    ),
    (
        "incident.truncated",
        "The file is cut short: decoded {decoded} s of {declared} s, analysed as far as it decodes.",
        "Файл обрезан: декодировано {decoded} с из {declared} с, проанализировано, сколько декодируется.",
    ),
    ("incident.delete", "Delete", "Удалить"),
    (
        "incident.delete_confirm",
        "Delete incident #{id} with its results? This cannot be undone.",
        "Удалить инцидент №{id} вместе с результатами? Отменить нельзя.",
    ),
    (
        "incident.delete_confirm_with_runs",
        "Delete incident #{id}? Its {count} re-run(s) of the same video are deleted with it. This cannot be undone.",
        "Удалить инцидент №{id}? Вместе с ним удаляются его повторные прогоны этого видео ({count}). Отменить нельзя.",
    ),
    ("incident.runs", "Runs of this video ({count})", "Прогоны этого видео ({count})"),
    (
        "incident.run_label",
        "#{id} · {engine} · window {window} s · {status} · {started}",
        "№{id} · {engine} · окно {window} с · {status} · {started}",
    ),
    ("incident.failed", "The analysis failed: {reason}", "Анализ завершился ошибкой: {reason}"),
    ("incident.failed_unknown", "no reason was recorded", "причина не записана"),
    ("incident.rerun_same", "Run again with the same parameters", "Запустить заново с теми же параметрами"),
    (
        "incident.reanalyse_started",
        "Run #{id} of the same video started (run #{previous} is kept).",
        "Запущен прогон №{id} того же видео (прогон №{previous} сохранён).",
    ),
    # live status
    ("status.progress", "{pct}% · {stage}", "{pct}% · {stage}"),
    ("status.pass", "Pass", "Проход"),
    ("status.windows", "Windows done", "Окон обработано"),
    ("status.elapsed", "Elapsed", "Прошло"),
    ("status.eta", "Time left (est.)", "Осталось (оценка)"),
    (
        "status.queued",
        "Waiting for a free slot: number {position} in the queue.",
        "Ожидает свободного места: {position}-й в очереди.",
    ),
    (
        "status.stale",
        "No sign of life from the analysis for {seconds} s; it may have been interrupted.",
        "Анализ не подаёт признаков жизни {seconds} с; возможно, он прерван.",
    ),
    ("status.params", "Engine: {engine} · domain: {domain}", "Движок: {engine} · область: {domain}"),
    # results
    ("summary.events", "Events shown", "Показано событий"),
    (
        "summary.events_help",
        "Events that pass the display filters / all events found.",
        "События, прошедшие фильтры отображения / все найденные события.",
    ),
    (
        "summary.facts",
        "Engine: **{engine}** · domain: **{domain}**  \nModel: `{model}` · prompts: `{prompt}`",
        "Движок: **{engine}** · область: **{domain}**  \nМодель: `{model}` · промпты: `{prompt}`",
    ),
    ("summary.domain_inferred", "{domain} (inferred)", "{domain} (определена)"),
    ("summary.passes", "Passes run", "Проходы"),
    ("summary.took", "Analysis took", "Время анализа"),
    (
        "summary.no_events",
        "No dangerous moment was found in this video.",
        "В этом видео опасных моментов не найдено.",
    ),
    (
        "summary.all_filtered",
        "All {count} events are hidden by the display filters.",
        "Все события ({count}) скрыты фильтрами отображения.",
    ),
    (
        "player.preparing",
        "Preparing a browser-playable copy of the video…",
        "Готовится копия видео, которую может воспроизвести браузер…",
    ),
    (
        "player.converted",
        "Shown from a browser-playable copy ({reason}).",
        "Показана копия для браузера ({reason}).",
    ),
    (
        "player.unplayable",
        "The video cannot be shown in the browser: {reason}. The analysis is not affected.",
        "Видео нельзя показать в браузере: {reason}. На результаты анализа это не влияет.",
    ),
    (
        "player.keys",
        "Keys: space plays or pauses, ←/→ one frame (with Shift one second), n/p next or previous event.",
        "Клавиши: пробел — пуск или пауза, ←/→ — кадр (с Shift — секунда), n/p — следующее или предыдущее событие.",
    ),
    (
        "card.hint",
        "Click an event marker on the timeline or a row of the events table to jump to it.",
        "Нажмите на маркер события на шкале времени или на строку таблицы событий, чтобы перейти к нему.",
    ),
    (
        "card.hint_no_events",
        "Click a bar of the timeline or a row of the storyboard to play from that window.",
        "Нажмите на столбец шкалы времени или строку раскадровки, чтобы воспроизвести с этого окна.",
    ),
    ("card.first_event", "Go to the first event ({time})", "К первому событию ({time})"),
    (
        "card.times",
        "**{start} – {end}** ({duration} s) · confidence **{confidence}** · pass {pass_no}",
        "**{start} – {end}** ({duration} с) · уверенность **{confidence}** · проход {pass_no}",
    ),
    ("card.previous", "Previous", "Предыдущее"),
    ("card.replay", "Replay", "Повторить"),
    ("card.next", "Next", "Следующее"),
    (
        "card.next_unreviewed",
        "Next unreviewed event ({count} left)",
        "Следующее непроверенное событие (осталось {count})",
    ),
    ("card.all_reviewed", "Every event shown is reviewed", "Все показанные события проверены"),
    ("card.review", "Review", "Проверка"),
    ("card.note", "Note", "Заметка"),
    ("card.save_review", "Save review", "Сохранить проверку"),
    ("card.review_saved", "Review saved: {label}.", "Проверка сохранена: {label}."),
    ("timeline.time", "Video time", "Время видео"),
    ("timeline.view", "Part of the video on the timeline", "Часть видео на шкале времени"),
    ("timeline.score", "Score", "Оценка"),
    ("timeline.pass", "pass", "проход"),
    ("timeline.confidence", "confidence", "уверенность"),
    ("timeline.windows", "Windows", "Окна"),
    ("timeline.failed_windows", "Failed windows", "Окна с ошибкой"),
    ("timeline.failed_window", "window failed", "окно не обработано"),
    ("timeline.selected", "Selected", "Выбрано"),
    ("timeline.only_in_this_run", "only in this run", "только в этом прогоне"),
    (
        "timeline.legend",
        (
            "Markers: ● not reviewed · ◆ confirmed · ✕ dismissed; the larger the marker, the more dangerous the event "
            "(severity); a red outline marks an event found by only one of the compared runs. Bars: each analysed "
            "window's score, coloured by pass; hatched grey: still windows not sent to the model; red crosses: "
            "windows that failed. Click a marker or a bar to play from there; drag to zoom, double-click to reset."
        ),
        (
            "Маркеры: ● не проверено · ◆ подтверждено · ✕ отклонено; чем больше маркер, тем опаснее событие; "
            "красная обводка — событие, найденное только одним из сравниваемых прогонов. Столбцы: оценка каждого "
            "окна, цвет — проход; серая штриховка — окна без изменений, не отправленные модели; красные крестики — "
            "окна с ошибкой. Нажмите на маркер или столбец, чтобы воспроизвести с этого места; выделите область "
            "для увеличения, двойной щелчок — сброс."
        ),
    ),
    ("tabs.events", "Events ({count})", "События ({count})"),
    ("tabs.storyboard", "Storyboard", "Раскадровка"),
    ("tabs.search", "Search", "Поиск"),
    ("tabs.logs", "Logs", "Журнал"),
    ("tabs.compare", "Comparison", "Сравнение"),
    ("tabs.downloads", "Downloads", "Скачать"),
    ("events.none", "No events to show.", "Нет событий для показа."),
    ("events.only_here", "Only here", "Только здесь"),
    ("events.type", "Type", "Тип"),
    ("events.start", "Start", "Начало"),
    ("events.end", "End", "Конец"),
    ("events.duration", "Duration", "Длит."),
    ("events.confidence", "Confidence", "Уверенность"),
    ("events.pass", "Pass", "Проход"),
    ("events.review", "Review", "Проверка"),
    ("events.note", "Note", "Заметка"),
    ("events.description", "Description", "Описание"),
    (
        "events.help",
        "Select a row to play the event and review it.",
        "Выберите строку, чтобы воспроизвести событие и проверить его.",
    ),
    ("storyboard.none", "No windows were stored for this run.", "Для этого прогона окна не сохранены."),
    ("storyboard.filter", "Filter descriptions", "Фильтр описаний"),
    ("storyboard.filter_hint", "a word from the descriptions", "слово из описаний"),
    ("storyboard.failed", "Failed", "Ошибка"),
    (
        "storyboard.help",
        "{count} of {total} windows. Select a row to play from there.",
        "Окон: {count} из {total}. Выберите строку, чтобы воспроизвести с этого места.",
    ),
    (
        "logs.versions",
        "Engine: {engine} · model version: {model} · prompt version: {prompt}",
        "Движок: {engine} · версия модели: {model} · версия промптов: {prompt}",
    ),
    ("logs.none", "No log lines.", "Записей нет."),
    ("logs.time", "Time", "Время"),
    ("logs.step", "Step", "Шаг"),
    ("logs.level", "Level", "Уровень"),
    ("logs.message", "Message", "Сообщение"),
    ("logs.model", "Model", "Модель"),
    ("logs.prompt", "Prompts", "Промпты"),
    ("compare.with", "Compare with another run", "Сравнить с другим прогоном"),
    ("compare.none", "no comparison", "без сравнения"),
    (
        "compare.summary",
        (
            "Run **#{current}** vs run **#{other}**: **{only_current}** event(s) only in #{current}, "
            "**{only_other}** only in #{other}, {both} found by both (overlapping in time)."
        ),
        (
            "Прогон **№{current}** и прогон **№{other}**: только в №{current} — **{only_current}**, "
            "только в №{other} — **{only_other}**, в обоих (пересекаются по времени) — {both}."
        ),
    ),
    ("compare.same", "Both runs found the same moments.", "Оба прогона нашли одни и те же моменты."),
    ("compare.run", "Run", "Прогон"),
    # about page
    ("about.title", "About Sigma", "О системе Sigma"),
    (
        "about.intro",
        "What analyses your videos, and where results are kept.",
        "Что анализирует видео и где хранятся результаты.",
    ),
    ("about.engine", "Engine and model server", "Движок и сервер модели"),
    (
        "about.engine_in_use",
        "Engine in use: **{engine}** (ENGINE={setting}).",
        "Используемый движок: **{engine}** (ENGINE={setting}).",
    ),
    (
        "about.no_server",
        "No model server is configured (LLM_BASE_URL is empty): the local motion engine analyses.",
        "Сервер модели не настроен (LLM_BASE_URL пуст): анализирует локальный движок движения.",
    ),
    (
        "about.server_ok",
        "Model server {url} is reachable. Models served: {models}.",
        "Сервер модели {url} доступен. Модели: {models}.",
    ),
    (
        "about.server_down",
        "Model server {url} is not reachable: {detail}.",
        "Сервер модели {url} недоступен: {detail}.",
    ),
    (
        "about.model_missing",
        "LLM_MODEL={model} is not among the models the server lists.",
        "LLM_MODEL={model} нет среди моделей, которые перечисляет сервер.",
    ),
    ("about.model_setting", "LLM_MODEL: {model}", "LLM_MODEL: {model}"),
    (
        "about.model_auto",
        "not set (the first model the server lists)",
        "не задан (первая модель из списка сервера)",
    ),
    ("about.storage", "Storage and database", "Хранилище и база данных"),
    ("about.storage_dir", "Storage folder", "Папка хранилища"),
    ("about.free_space", "Free space", "Свободно"),
    ("about.database", "Database", "База данных"),
    ("about.schema", "Schema revision", "Версия схемы"),
    ("about.incidents", "Incidents by status", "Инциденты по статусам"),
    ("about.jobs", "Jobs", "Задачи"),
    (
        "about.jobs_value",
        "backend {backend}, {running} at once, up to {queued} waiting",
        "режим {backend}, одновременно {running}, в очереди до {queued}",
    ),
    ("about.upload_limit", "Upload limit", "Предел загрузки"),
    ("about.password", "Password gate", "Вход по паролю"),
    ("about.setting", "Setting", "Параметр"),
    ("about.value", "Value", "Значение"),
    ("about.versions", "Versions", "Версии"),
    ("about.component", "Component", "Компонент"),
    ("about.version", "Version", "Версия"),
    # search and "ask the model" (dashboard/search_panel.py)
    ("search.label", "Search the storyboard and events", "Поиск по раскадровке и событиям"),
    ("search.label_all", "Search all incidents", "Поиск по всем инцидентам"),
    (
        "search.placeholder",
        'e.g. collision, драка, "red car"',
        'например: ДТП, драка, fight, "красная машина"',
    ),
    ("search.count", "{n} hit(s)", "Найдено: {n}"),
    ("search.types", "Also matched event types: {types}", "Найдены также типы событий: {types}"),
    (
        "search.partial",
        "No place has every word; showing places with some of them.",
        "Нет мест со всеми словами; показаны места, где есть часть слов.",
    ),
    ("search.none", "Nothing found for «{query}».", "По запросу «{query}» ничего не найдено."),
    ("search.window", "window", "окно"),
    ("search.event", "event", "событие"),
    ("search.score", "score {score:.2f}", "оценка {score:.2f}"),
    ("search.play", "Play from {time}", "Смотреть с {time}"),
    ("search.open", "Open incident #{id} at {time}", "Открыть инцидент №{id} на {time}"),
    ("ask.label", "Ask the model about this video", "Спросить модель об этом видео"),
    ("ask.placeholder", "e.g. When does the white car appear?", "например: когда появляется белая машина?"),
    ("ask.submit", "Ask", "Спросить"),
    ("ask.thinking", "The model is reading the storyboard…", "Модель читает раскадровку…"),
    (
        "ask.no_server",
        (
            "Asking the model needs a model server: set LLM_BASE_URL (an OpenAI-compatible API such as vLLM). "
            "Search works without one."
        ),
        (
            "Чтобы спрашивать модель, нужен сервер модели: задайте LLM_BASE_URL (API, совместимый с OpenAI, "
            "например vLLM). Поиск работает и без него."
        ),
    ),
    ("ask.failed", "The model could not answer: {reason}", "Модель не смогла ответить: {reason}"),
    ("ask.sources", "Windows the answer relies on:", "Окна, на которые опирается ответ:"),
    ("ask.no_sources", "The answer cites no window.", "Ответ не ссылается ни на одно окно."),
    (
        "ask.selection",
        "The model saw {sent} of {total} windows (those closest to the question).",
        "Модель видела {sent} из {total} окон (ближайшие к вопросу).",
    ),
    ("ask.model", "Answered by {model}", "Ответила модель {model}"),
    # downloads (dashboard/downloads.py)
    ("download.json", "Result JSON", "Результат JSON"),
    (
        "download.json_help",
        "The analysis result exactly as `python -m core analyze --json` prints it.",
        "Результат анализа в точности как печатает `python -m core analyze --json`.",
    ),
    ("download.csv", "Events CSV", "События CSV"),
    (
        "download.csv_help",
        "One row per event: type, times, confidence, description, review.",
        "Строка на событие: тип, время, уверенность, описание, проверка.",
    ),
    ("download.vtt", "Captions WebVTT", "Субтитры WebVTT"),
    (
        "download.vtt_help",
        "One caption per event, for any video player.",
        "Субтитр на каждое событие — для любого видеоплеера.",
    ),
    ("download.docx", "Report DOCX", "Отчёт DOCX"),
    (
        "download.docx_help",
        "Summary, video and analysis facts, events, a keyframe per event, timeline, storyboard and log.",
        "Итог, сведения о видео и анализе, события, кадр каждого события, шкала времени, раскадровка, журнал.",
    ),
    # the analyst's concerns and site context, severity, still windows (VLM engine, issue 14)
    ("concerns.title", "Concerns and site context", "Свои типы событий и описание места"),
    (
        "concerns.help",
        (
            "For the VLM engine: tell the model what this camera shows and what else to look for. They enter its "
            "prompts and are kept with the run."
        ),
        (
            "Для движка VLM: расскажите модели, что снимает камера и что ещё искать. Это попадёт в её промпты и "
            "сохранится вместе с прогоном."
        ),
    ),
    ("concerns.context", "Site context", "Описание места"),
    (
        "concerns.context_help",
        "What the camera shows and what is normal there, in a few sentences (at most {limit} characters).",
        "Что снимает камера и что там обычно происходит, в нескольких предложениях (не более {limit} символов).",
    ),
    (
        "concerns.context_placeholder",
        "Loading bay of a warehouse; forklifts work here all day.",
        "Зона погрузки склада; погрузчики работают здесь весь день.",
    ),
    ("concerns.list", "Extra event types", "Дополнительные типы событий"),
    (
        "concerns.list_help",
        (
            "One per line, CODE: definition. The code: upper-case letters, digits and _, not a built-in type; at "
            "most {count} types, each definition one line."
        ),
        (
            "По одному в строке, КОД: определение. Код — заглавные латинские буквы, цифры и _, не встроенный тип; "
            "не более {count} типов, определение — одна строка."
        ),
    ),
    (
        "concerns.list_placeholder",
        "NO_GLOVES: a person works at the press without gloves",
        "NO_GLOVES: человек работает у пресса без перчаток",
    ),
    ("concerns.examples", "Ready examples", "Готовые примеры"),
    (
        "concerns.examples_help",
        "Added to the extra event types above.",
        "Добавляются к дополнительным типам выше.",
    ),
    (
        "concerns.local_only",
        "The local engine measures motion and cannot look for these; they are kept for a VLM re-analysis.",
        "Локальный движок измеряет движение и не может их искать; они сохранятся для повторного анализа VLM.",
    ),
    ("concerns.refused", "Not started: {reason}", "Анализ не запущен: {reason}"),
    ("summary.site_context", "Site context: {text}", "Описание места: {text}"),
    ("summary.concerns", "Extra event types: {items}", "Дополнительные типы событий: {items}"),
    ("card.severity", "Severity: **{severity}**", "Опасность: **{severity}**"),
    ("events.severity", "Severity", "Опасность"),
    ("events.sort", "Sort by", "Сортировка"),
    ("events.sort_time", "time", "по времени"),
    ("events.sort_severity", "severity, highest first", "по опасности, сначала высокая"),
    ("events.sort_confidence", "confidence, highest first", "по уверенности, сначала высокая"),
    ("filters.min_severity", "Severity at least", "Опасность не ниже"),
    ("filters.severity_all", "any", "любая"),
    ("filters.severity_concern", "concern", "внимание"),
    ("filters.severity_danger", "danger", "опасно"),
    ("timeline.severity", "severity", "опасность"),
    ("timeline.skipped_windows", "Still, not sent", "Без изменений, не отправлены"),
    ("storyboard.skipped", "Skipped", "Пропущено"),
    # what each engine measured, in honest words (issue 11: the local engine's objects and tracks)
    (
        "summary.no_events_local",
        "No unusual motion or object behaviour found; this engine cannot rule out incidents.",
        "Необычного движения или поведения объектов не найдено; этот движок не может исключить происшествия.",
    ),
    (
        "summary.no_events_vlm",
        "The model reported no dangerous moment; a model can miss incidents, so this does not rule them out.",
        "Модель не отметила опасных моментов; модель может пропустить происшествие, поэтому это его не исключает.",
    ),
    (
        "summary.local_measures",
        (
            "The local engine measured motion and tracked moving objects; its events name what the tracks did, "
            "not a model's judgement, and its scores are measured strengths (0.5 at a rule's threshold), not "
            "probabilities."
        ),
        (
            "Локальный движок измерял движение и отслеживал движущиеся объекты; его события называют то, что делали "
            "треки, а не суждение модели, а оценки — измеренная сила признака (0,5 на пороге правила), а не "
            "вероятности."
        ),
    ),
    ("events.strength", "Measured strength", "Сила признака"),
    ("timeline.anomaly_score", "Anomaly score", "Оценка аномальности"),
    (
        "card.times_local",
        "**{start} – {end}** ({duration} s) · measured strength **{confidence}** · pass {pass_no}",
        "**{start} – {end}** ({duration} с) · сила признака **{confidence}** · проход {pass_no}",
    ),
    (
        "card.keyframe",
        "Frame at {time}: the red box is where the engine measured the event; lines are the tracked objects' paths.",
        "Кадр на {time}: красная рамка — где движок измерил событие; линии — пути отслеженных объектов.",
    ),
    ("card.tracks", "Tracks: {ids}", "Треки: {ids}"),
    # sign-in form (api/gate.py) and who is signed in (dashboard/auth.py)
    ("auth.title", "Sigma", "Sigma"),
    (
        "auth.prompt",
        "This Sigma server is shared: sign in to continue.",
        "Этот сервер Sigma общий: войдите, чтобы продолжить.",
    ),
    ("auth.name", "Name (if you have an account)", "Имя (если у вас есть учётная запись)"),
    ("auth.password", "Password", "Пароль"),
    ("auth.sign_in", "Sign in", "Войти"),
    # evidence: case details, legal hold, audit trail, clips, case package (dashboard/evidence.py)
    ("hold.badge", "On legal hold", "Запрет удаления"),
    (
        "hold.active",
        "On legal hold since {when}, placed by {who}: {reason}. It cannot be deleted, and retention keeps it.",
        "Запрет удаления с {when}, установил(а) {who}: {reason}. Инцидент нельзя удалить, срок хранения на него не действует.",
    ),
    ("hold.reason", "Reason for the hold", "Причина запрета"),
    (
        "hold.help",
        "E.g. the case or the request it answers. The video and all its runs are kept until the hold is lifted.",
        "Например, дело или запрос, по которому он установлен. Видео и все его анализы хранятся, пока запрет не снят.",
    ),
    ("hold.place", "Place a legal hold", "Запретить удаление"),
    ("hold.lift", "Lift the legal hold", "Снять запрет удаления"),
    ("hold.placed", "Legal hold placed.", "Запрет удаления установлен."),
    ("hold.lifted", "Legal hold lifted.", "Запрет удаления снят."),
    ("case.title", "Case and legal hold", "Дело и запрет удаления"),
    ("case.number", "Case number", "Номер дела"),
    ("case.investigator", "Investigator", "Следователь"),
    ("case.note", "Note for the report", "Примечание для отчёта"),
    ("case.save", "Save case details", "Сохранить сведения о деле"),
    ("case.saved", "Case details saved.", "Сведения о деле сохранены."),
    (
        "evidence.viewer",
        "You are signed in as a viewer: you can look and download, not change anything.",
        "Вы вошли как наблюдатель: можно смотреть и скачивать, но не изменять.",
    ),
    ("audit.title", "Who did what (audit trail)", "Кто и что делал (журнал действий)"),
    ("audit.none", "Nothing recorded yet.", "Пока ничего не записано."),
    ("audit.when", "When", "Когда"),
    ("audit.who", "Who", "Кто"),
    ("audit.role", "Role", "Роль"),
    ("audit.action", "Action", "Действие"),
    ("audit.target", "Object", "Объект"),
    ("audit.details", "Details", "Подробности"),
    (
        "audit.help",
        "Every run of this video, newest first. The trail cannot be edited and outlives deleted incidents.",
        "Все анализы этого видео, новые сверху. Журнал нельзя изменить; он сохраняется и после удаления.",
    ),
    ("clip.one", "Clip MP4", "Фрагмент MP4"),
    (
        "clip.one_help",
        "This event with {pre} s before and {post} s after, cut exactly from the original video.",
        "Это событие, {pre} с до и {post} с после, точно вырезанное из исходного видео.",
    ),
    ("clip.all", "Clips of all events (ZIP)", "Фрагменты всех событий (ZIP)"),
    (
        "clip.all_help",
        "An MP4 per event, with pre- and post-roll, in one ZIP.",
        "По MP4 на каждое событие, с запасом до и после, в одном ZIP.",
    ),
    ("package.build", "Build the case package", "Собрать пакет дела"),
    (
        "package.help",
        "One ZIP to hand on: the original video, a clip per event, the report, JSON, CSV, the audit trail and a manifest with every file's SHA-256 (check it with python -m core verify).",
        "Один ZIP для передачи: исходное видео, фрагменты событий, отчёт, JSON, CSV, журнал действий и манифест с SHA-256 каждого файла (проверка: python -m core verify).",
    ),
    ("package.building", "Building the case package…", "Сборка пакета дела…"),
    ("package.signed", "signed", "подписан"),
    ("package.unsigned", "not signed", "не подписан"),
    ("package.ready", "Ready: {files} files, {size}, {signed}.", "Готово: файлов {files}, {size}, {signed}."),
    (
        "package.too_large",
        "The package is {size}, too large to download through the browser. It is on the server at {path}; or run python -m core package {id} -o case.zip there.",
        "Пакет занимает {size} — слишком много для скачивания через браузер. Он лежит на сервере: {path}; или выполните там python -m core package {id} -o case.zip.",
    ),
    ("package.download", "Download the case package", "Скачать пакет дела"),
    ("card.reviewed_by", "Reviewed by {who}, {when}.", "Проверил(а) {who}, {when}."),
    (
        "card.carried_over",
        "Carried over from event {event} of an earlier run.",
        "Перенесено с события {event} предыдущего анализа.",
    ),
    ("events.reviewed_by", "Reviewed by", "Проверил(а)"),
    ("download.storyboard", "Storyboard JSON", "Раскадровка JSON"),
    (
        "download.storyboard_help",
        "Every analysed window with its score and description (the report lists those around events).",
        "Все проанализированные окна с оценкой и описанием (в отчёте — только окна рядом с событиями).",
    ),
    ("auth.wrong", "Wrong name or password.", "Неверное имя или пароль."),
    ("auth.oidc", "Sign in with {provider}", "Войти через {provider}"),
    (
        "auth.oidc_refused",
        "{email} has no access to Sigma: an administrator can add it to OIDC_ANALYSTS or OIDC_VIEWERS.",
        "У {email} нет доступа к Sigma: администратор может добавить адрес в OIDC_ANALYSTS или OIDC_VIEWERS.",
    ),
    (
        "auth.wait",
        "Too many wrong attempts from here: wait {seconds} s and try again.",
        "Слишком много неверных попыток: подождите {seconds} с и попробуйте снова.",
    ),
    ("auth.signed_in_as", "Signed in as {name}", "Вы вошли как {name}"),
    ("auth.sign_out", "Sign out", "Выйти"),
    (
        "auth.no_session",
        "Your session has ended: sign in again.",
        "Сеанс завершён: войдите снова.",
    ),
)
